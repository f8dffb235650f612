"""The command centre's first load, scored by Lighthouse in Debian's Chromium.

    run(quick) -> rows {name, value, unit, note}

Served as `make run` serves it: the built PWA (pwa/dist, built when older than its sources)
from gunicorn (2 sync workers) behind nginx rendered from deploy/nginx (gzip, the security
headers), on a database of its own with the demo city (`gridsnap_bench_lighthouse`, dropped
and made anew). Chromium (/usr/bin/chromium, headless) is started with a profile of its own;
Playwright logs in there as the demo supervisor through the login form and waits for the
command centre, then the page is left for about:blank.

Lighthouse (the npm package pinned in bench/lighthouse/package.json, installed there with
`npm ci` when missing: it is not one of the PWA's dependencies) then loads `/` in the same
browser: desktop preset (simulated throttling: 40 ms RTT, 10 Mbit/s, no CPU slowdown),
performance category only. Before each load it clears what it clears by default — the HTTP
cache, the service worker and Cache Storage — and keeps IndexedDB, where the app keeps its
login: so every load is the command centre opened by a logged-in supervisor with none of the
app's code cached (the hardest first load; a later visit comes from the service worker).
Five loads (one when quick); the figures are the load with the median score:
performance score (target ≥ 90), total blocking time, largest contentful paint, and the
JavaScript the load fetched (bytes over the wire, gzip from nginx, and their uncompressed size).
The load average of the machine is in each note (Lighthouse's CPU figures are this machine's,
not a simulated one's: compare runs made together).

    python -m bench.lighthouse --baseline /path/to/other/dist   # (under `gridsnap services run`)

measures another build of the PWA (main's, say) in the same session: both served side by side,
their loads taking turns, each build's figures printed.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from . import database
from .env import DEMO_SUPERVISOR, REPO_ROOT, BenchEnv
from .procs import Procs, gunicorn, nginx
from .pwa import _WAIT_IDB, CHROMIUM, DIST, _free_port, _poll, build

DB_NAME = "gridsnap_bench_lighthouse"
LH_DIR = REPO_ROOT / "bench" / "lighthouse"
LH_CLI = LH_DIR / "node_modules" / "lighthouse" / "cli" / "index.js"
TARGET_SCORE = 90
LOADS, QUICK_LOADS = 5, 1
LH_TIMEOUT_S = 300
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-extensions", "--mute-audio"]


def install() -> None:
    """npm ci in bench/lighthouse when its node_modules is missing or older than the lock."""
    lock, done = LH_DIR / "package-lock.json", LH_DIR / "node_modules" / ".package-lock.json"
    if done.exists() and done.stat().st_mtime >= lock.stat().st_mtime and LH_CLI.exists():
        return
    npm = shutil.which("npm") or "npm"
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=LH_DIR,
                   check=True, stdout=subprocess.DEVNULL)


def _log_in(pw, profile: Path, cdp_port: int, base_url: str):
    """Chromium with its DevTools port open, the supervisor logged in; returns the context."""
    ctx = pw.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True,
        args=[*CHROMIUM_ARGS, f"--remote-debugging-port={cdp_port}"],
        viewport={"width": 1350, "height": 940}, locale="zh-CN", base_url=base_url)
    page = ctx.pages[0] if ctx.pages else ctx.new_page()
    page.goto("/")
    page.fill("#username", DEMO_SUPERVISOR[0])
    page.fill("#password", DEMO_SUPERVISOR[1])
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=command]", timeout=60_000)
    page.wait_for_selector(".maplibregl-canvas", timeout=60_000)
    # the scope's cells on the device, as on any later visit: the map is made over their bounds
    # (without them it opens on the city's centre, with three times the tiles)
    _poll(page, _WAIT_IDB, ["cells", 1], ok=lambda v: v > 0)
    page.goto("about:blank")
    return ctx


def _lighthouse(url: str, cdp_port: int, out: Path) -> dict:
    node = shutil.which("node") or "node"
    argv = [node, str(LH_CLI), url, f"--port={cdp_port}", "--preset=desktop",
            "--only-categories=performance", "--output=json", f"--output-path={out}",
            "--quiet", "--max-wait-for-load=60000"]
    subprocess.run(argv, check=True, timeout=LH_TIMEOUT_S, cwd=LH_DIR,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return json.loads(out.read_text(encoding="utf-8"))


def figures(lhr: dict) -> dict:
    """The figures of one Lighthouse report (lhr): score, TBT, LCP, FCP, the scripts fetched."""
    audits = lhr["audits"]
    # the scripts fetched (a blob: URL, such as MapLibre's worker, is made by the page)
    scripts = [r for r in audits["network-requests"]["details"]["items"]
               if r.get("resourceType") == "Script" and r.get("url", "").startswith("http")]
    return {
        "score": round(lhr["categories"]["performance"]["score"] * 100),
        "tbt_ms": audits["total-blocking-time"]["numericValue"],
        "lcp_ms": audits["largest-contentful-paint"]["numericValue"],
        "fcp_ms": audits["first-contentful-paint"]["numericValue"],
        "js_transfer": sum(max(0, r.get("transferSize") or 0) for r in scripts),
        "js_resource": sum(max(0, r.get("resourceSize") or 0) for r in scripts),
        "js_files": len(scripts),
        "warnings": lhr.get("runWarnings", []),
        "error": (lhr.get("runtimeError") or {}).get("message"),
    }


def _load_average() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def measure(builds: dict[str, str], loads: int, out_dir: Path) -> dict[str, list[dict]]:
    """Lighthouse `loads` times on the command centre of each build ({name: base URL}, each its
    own browser and login), the builds taking turns load by load (their order swapped every
    round: the machine's load falls on both alike); the figures of each load, by build."""
    from playwright.sync_api import sync_playwright

    runs: dict[str, list[dict]] = {name: [] for name in builds}
    with sync_playwright() as pw:
        browsers = {}
        try:
            for name, base_url in builds.items():
                cdp_port = _free_port()
                ctx = _log_in(pw, out_dir / f"profile-{name}", cdp_port, base_url)
                cdp = ctx.new_cdp_session(ctx.pages[0])
                cdp.send("ServiceWorker.enable")
                browsers[name] = (ctx, cdp_port, cdp)
            for i in range(loads):
                order = list(builds) if i % 2 == 0 else list(reversed(builds))
                for name in order:
                    load = _load_average()
                    lhr = _lighthouse(f"{builds[name]}/", browsers[name][1],
                                      out_dir / f"lhr-{name}-{i + 1}.json")
                    f = figures(lhr)
                    if f["error"]:
                        raise RuntimeError(f"Lighthouse: {f['error']}")
                    f["load_average"] = load
                    runs[name].append(f)
                    # the service worker this load installed (precaching every chunk) ends
                    # here, not during the next load (Lighthouse unregisters it then)
                    browsers[name][2].send("ServiceWorker.stopAllWorkers")
                    print(f"    lighthouse {name} load {i + 1}: score {f['score']}, TBT "
                          f"{f['tbt_ms']:.0f} ms, LCP {f['lcp_ms']:.0f} ms, JS "
                          f"{f['js_transfer'] / 1024:.0f} KiB (load average {load})", flush=True)
        finally:
            for ctx, *_ in browsers.values():
                ctx.close()
    return runs


def rows_of(runs: list[dict]) -> list[dict]:
    by_score = sorted(runs, key=lambda r: (r["score"], -r["tbt_ms"]))
    mid = by_score[(len(by_score) - 1) // 2]
    scores = ", ".join(str(r["score"]) for r in runs)
    tbts = ", ".join(f"{r['tbt_ms']:.0f}" for r in runs)
    loads = f"{len(runs)} load{'s' if len(runs) > 1 else ''}"
    return [
        {"name": "command centre Lighthouse performance (desktop)", "value": mid["score"],
         "unit": "/ 100", "target": f"≥ {TARGET_SCORE}", "ok": mid["score"] >= TARGET_SCORE,
         "note": f"median of {loads} ({scores}); logged in, no code cached; load average "
                 f"{mid['load_average']} (1/5/15 min) at that load"},
        {"name": "command centre total blocking time", "value": round(mid["tbt_ms"]),
         "unit": "ms", "note": f"the median-score load's; each load: {tbts} ms; median "
                               f"{statistics.median(r['tbt_ms'] for r in runs):.0f} ms"},
        {"name": "command centre largest contentful paint", "value": round(mid["lcp_ms"]),
         "unit": "ms", "note": f"first contentful paint {mid['fcp_ms']:.0f} ms (simulated "
                               "desktop link)"},
        {"name": "command centre JS of the first load", "value": round(mid["js_transfer"] / 1024, 1),
         "unit": "KiB", "note": f"{mid['js_files']} scripts over the wire (gzip), "
                                f"{mid['js_resource'] / 1024:.0f} KiB uncompressed"},
    ]


def _serve(procs: Procs, env: BenchEnv, dist: Path, name: str, tmp_dir: Path) -> str:
    """`dist` served as `make run` serves pwa/dist: gunicorn behind nginx; its base URL."""
    api_port, front_port = _free_port(), _free_port()
    child = env.child_env(GRIDSNAP_PWA_DIST=str(dist), GRIDSNAP_TRUSTED_PROXIES="1")
    gunicorn(procs, f"lighthouse-api-{name}", "gridsnap.wsgi:app", api_port, 2, child,
             "/api/v1/health", extra_args=("--access-logfile", "/dev/null"))
    nginx(procs, f"lighthouse-nginx-{name}", tmp_dir / f"nginx-{name}", front_port, api_port,
          env.settings().max_body_bytes)
    return f"http://127.0.0.1:{front_port}"


def run(quick: bool, baseline: Path | None = None) -> list[dict]:
    """The rows of pwa/dist; with `baseline` (another build's dist folder) both are measured,
    taking turns, and the baseline's figures are printed next to them (not returned)."""
    build()
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} missing (apt-get install chromium; `make bench` does)")
    install()
    with tempfile.TemporaryDirectory(prefix="gridsnap-bench-lighthouse-") as tmp:
        tmp_dir = Path(tmp)
        env = BenchEnv.make(tmp_dir / "media", db=DB_NAME)
        database.recreate(env)
        with Procs(tmp_dir) as procs:
            builds = {"this": _serve(procs, env, DIST, "this", tmp_dir)}
            if baseline is not None:
                builds["baseline"] = _serve(procs, env, baseline, "baseline", tmp_dir)
            runs = measure(builds, QUICK_LOADS if quick else LOADS, tmp_dir)
            keep = REPO_ROOT / "bench" / "out" / "lighthouse"
            keep.mkdir(parents=True, exist_ok=True)
            for p in tmp_dir.glob("lhr-*.json"):
                shutil.copy(p, keep / p.name)
    if baseline is not None:
        for name in builds:
            print(f"{name}:", flush=True)
            for row in rows_of(runs[name]):
                print(f"  {row['name']}: {row['value']} {row['unit']} ({row['note']})", flush=True)
    return rows_of(runs["this"])


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(prog="python -m bench.lighthouse", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="one load instead of five")
    ap.add_argument("--baseline", type=Path, metavar="DIST",
                    help="another build of the PWA (a dist folder, e.g. main's) measured in "
                         "turns with this one")
    args = ap.parse_args()
    for row in run(args.quick, args.baseline):
        print(json.dumps(row, ensure_ascii=False))
