"""Accessibility checks the browser tests run on every screen they visit: axe-core (npm, from
pwa/node_modules, injected into the page) with no serious or critical violation, no missing h1
and no contrast failure at any impact, and, on the
phone screens, every tap target at least 44×44 CSS px."""

from __future__ import annotations

import json

from conftest import REPO

AXE = REPO / "pwa" / "node_modules" / "axe-core" / "axe.min.js"
MIN_TAP_PX = 44

# rules that fail a screen whatever their impact: every screen has its one h1 (the app's name)
ALWAYS = ("page-has-heading-one", "color-contrast")

_RUN_AXE = """async (ALWAYS) => {
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return { rules: r.passes.length + r.violations.length + r.incomplete.length, bad: r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical' || ALWAYS.includes(v.id))
        .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                       nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ' — '
                           + (n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 200)) })) };
}"""

# visible things a finger taps: buttons, links, form controls (a control hidden behind its label
# is measured by the label); Leaflet's attribution links and links inside running text are
# exempt (WCAG 2.5.8 inline exception)
_SMALL_TARGETS = """(min) => {
    const out = [];
    const seen = new Set();
    const sel = 'button, a[href], select, input:not([type=hidden]), textarea, [role=button], [role=tab]';
    for (let el of document.querySelectorAll(sel)) {
        if (el.closest('.leaflet-control-attribution, .maplibregl-ctrl-attrib, p, li.inline')
            && el.tagName === 'A' && !el.classList.contains('button')) continue;
        if (el.matches('input[type=file], input[type=checkbox], input[type=radio]') || el.classList.contains('hidden-input')) {
            el = el.closest('label') || (el.id && document.querySelector(`label[for="${el.id}"]`));
            if (!el) continue;
        }
        if (seen.has(el)) continue;
        seen.add(el);
        const r = el.getBoundingClientRect();
        const st = getComputedStyle(el);
        if (!r.width || !r.height || st.visibility === 'hidden' || st.display === 'none') continue;
        if (el.closest('[aria-hidden=true]') || el.closest('.sr-only')) continue;
        if (r.width < min - 0.5 || r.height < min - 0.5) {
            out.push(`${el.tagName.toLowerCase()}${el.dataset.testid ? '[' + el.dataset.testid + ']' : ''}`
                + `.${[...el.classList].join('.')} "${(el.innerText || el.getAttribute('aria-label') || el.title || '').trim().slice(0, 30)}" `
                + `${Math.round(r.width)}×${Math.round(r.height)}`);
        }
    }
    return out;
}"""


def axe_serious(page) -> list[dict]:
    """The serious and critical axe-core violations on the page as it now is."""
    if not AXE.exists():  # a failure, not a skip: make pwa installs it
        raise AssertionError(f"{AXE} is missing: run `make pwa` (npm ci in pwa/)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(_RUN_AXE, list(ALWAYS))
    assert result["rules"] > 20, f"axe-core ran only {result['rules']} rules"
    return result["bad"]


def assert_accessible(page, screen: str, *, taps: bool = True) -> None:
    """No serious or critical axe violation; with taps, no tap target under 44 px."""
    bad = axe_serious(page)
    assert not bad, f"{screen}: axe-core found\n{json.dumps(bad, ensure_ascii=False, indent=1)}"
    if taps:
        small = page.evaluate(_SMALL_TARGETS, MIN_TAP_PX)
        assert not small, f"{screen}: tap targets under {MIN_TAP_PX} px: {small}"
