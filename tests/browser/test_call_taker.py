"""The call-taker's screen (话务受理) in Chromium: a call taken in under 30 s of typing — counted
in typed steps (each character, key and choice one step; a call-taker types about three a
second), never by the clock — and callers' numbers shown masked, unmasked only on request."""

from __future__ import annotations

from sqlalchemy import text

from cases_helpers import act, evidence
from hotline_helpers import call_body, take_call

from .a11y import assert_accessible
from .command import DESKTOP
from .pwa import command_login
from conftest import PERSONAS, auth
from followup import drain

STEPS_IN_30_S = 90  # ~3 keystrokes a second


class Typist:
    """Drives the page by keyboard only and counts the steps."""

    def __init__(self, page):
        self.page, self.steps = page, 0

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)
        self.steps += len(text)

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)
        self.steps += 1

    def choose(self, selector: str, value: str) -> None:
        self.page.select_option(selector, value)  # a select: one choice from the keyboard
        self.steps += 1


def _login(page, demo_users):
    name = PERSONAS["call_taker"]
    page.goto("/")
    page.fill("#username", name)
    page.fill("#password", demo_users[name]["password"])
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=call-form]")


def test_a_call_is_taken_in_under_30_s_of_typing_and_the_number_shown_masked(
        browser, live_server, demo_users, client, tokens, engine):
    # the same number called last week: the call-taker is told, with the case
    before = take_call(client, tokens, call_body(address="东华门街道多福巷社区"))
    with engine.connect() as conn:
        cell = conn.execute(text("SELECT area_code FROM address_points "
                                 "WHERE address = '东城区多福巷12号'")).scalar_one()
    ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN", base_url=live_server.url)
    page = ctx.new_page()
    try:
        _login(page, demo_users)
        k = Typist(page)
        # the phone field has the focus when the screen opens
        k.type("13812341234")
        k.press("Tab")
        page.wait_for_selector("[data-testid=call-repeat]")
        assert "此号码 30 天内来电 1 次" in page.inner_text("[data-testid=call-repeat]")
        assert f"#{before['number']}" in page.inner_text("[data-testid=call-repeat]")
        k.type("张三")
        k.press("Tab")  # anonymous: no
        k.press("Tab")
        k.choose("[data-testid=call-nature]", "complaint")
        k.press("Tab")
        # the class by the initials of its pinyin (垃圾清运不及时): the first found, with its unit
        k.type("ljqy")
        page.wait_for_selector("[data-testid=call-class-item]")
        assert "环境卫生服务中心" in page.inner_text("[data-testid=call-class-item] >> nth=0")
        k.press("Enter")
        assert "010101" in page.inner_text("[data-testid=call-class-chosen]")
        k.press("Tab")
        k.choose("[data-testid=call-urgency]", "urgent")
        k.press("Tab")
        k.press("Tab")  # the category: the class's
        # the address among the address points (门牌)
        k.type("多福巷12号")
        page.wait_for_selector("[data-testid=call-address-item]")
        k.press("Enter")
        assert "东城区多福巷12号" in page.inner_text("[data-testid=call-place]")
        k.press("Tab")
        k.type("楼下垃圾三天没人清运")
        k.press("Control+Enter")
        page.wait_for_selector("[data-testid=call-done], .call-form .error")
        assert page.locator("[data-testid=call-done]").count() == 1, page.inner_text("[data-testid=call-form]")
        assert k.steps <= STEPS_IN_30_S, k.steps
        assert page.inner_text("[data-testid=call-done-phone]") == "138****1234"
        assert "13812341234" not in page.content()
        case = client.get("/api/v1/cases", query_string={"source": "hotline"},
                          headers=auth(tokens["supervisor"])).get_json()[0]
        assert case["urgency"] == "urgent" and case["community"]["code"] == "110101001001"
        assert case["request_class"]["code"] == "010101" and case["category"] == "E0102"
        assert case["cell"]["code"] == cell and case["address"] == "东城区多福巷12号"
        # ready for the next call: the form is empty, the phone field focused
        assert page.input_value("[data-testid=call-phone]") == ""
        assert page.evaluate("document.activeElement.dataset.testid") == "call-phone"
    finally:
        ctx.close()


def test_callbacks_show_numbers_masked_until_shown_on_purpose(
        browser, live_server, demo_users, client, tokens, demo_cell, runtime):
    cid = take_call(client, tokens, call_body(demo_cell))["id"]
    drain(runtime)
    act(client, tokens, "supervisor", cid, "accept")
    act(client, tokens, "supervisor", cid, "dispatch")
    act(client, tokens, "handler", cid, "sign")
    act(client, tokens, "handler", cid, "resolve",
        photo_ids=[evidence(client, tokens, "handler", cid, "resolution")])
    act(client, tokens, "supervisor", cid, "close")
    ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN", base_url=live_server.url)
    page = ctx.new_page()
    try:
        _login(page, demo_users)
        page.click("[data-testid=tab-callbacks]")
        page.wait_for_selector("[data-testid=callback-item]")
        assert page.inner_text("[data-testid=callback-phone]") == "138****1234"
        assert "13812341234" not in page.content()
        page.click("[data-testid=callback-reveal]")
        page.wait_for_function(
            "document.querySelector('[data-testid=callback-phone]').textContent === '13812341234'")
        trail = client.get(f"/api/v1/cases/{cid}/events", headers=auth(tokens["admin"])).get_json()
        assert [e["actor_role"] for e in trail if e["action"] == "caller.viewed"] == ["call_taker"]
        page.click("[data-testid=callback-record]")  # 满意, solved
        page.wait_for_selector("[data-testid=callbacks] >> text=没有待回访的诉求")
        c = client.get(f"/api/v1/cases/{cid}", headers=auth(tokens["supervisor"])).get_json()
        assert c["callback_status"] == "done"
    finally:
        ctx.close()


def _point_on_screen(page, lon, lat) -> dict:
    """Centres the call form's map on (lon, lat) at street level; the point's pixel in the map."""
    return page.evaluate("""([lon, lat]) => { const m = window.__gridsnapCallMap;
        m.setView([lat, lon], 17, { animate: false });
        const p = m.latLngToContainerPoint([lat, lon]);
        return { x: p.x, y: p.y }; }""", [lon, lat])


def test_a_point_picked_on_the_map_places_the_call_and_is_named_by_the_grid(
        browser, live_server, demo_users, client, tokens, demo_cell):
    ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN", base_url=live_server.url)
    page = ctx.new_page()
    try:
        _login(page, demo_users)
        page.wait_for_selector("[data-testid=call-map][data-ready='1']")
        assert_accessible(page, "call form with map", taps=False)
        # from the keyboard: the map focused, Enter sets the point at the cross (its centre)
        _point_on_screen(page, demo_cell["lon"], demo_cell["lat"])
        page.focus("[data-testid=call-map]")
        page.keyboard.press("Enter")
        page.wait_for_function("document.querySelector('[data-testid=call-point]')"
                               f"?.textContent.includes({demo_cell['name']!r})")
        assert page.locator("[data-testid=call-done]").count() == 0  # Enter there sends nothing
        page.click("[data-testid=call-point-clear]")
        assert page.locator("[data-testid=call-point]").count() == 0
        # with the mouse: a click on the cell, no address typed
        at = _point_on_screen(page, demo_cell["lon"], demo_cell["lat"])
        page.click("[data-testid=call-map]", position=at)
        page.wait_for_function("document.querySelector('[data-testid=call-point]')"
                               f"?.textContent.includes({demo_cell['name']!r})")
        page.fill("[data-testid=call-phone]", "13900001111")
        page.select_option("[data-testid=call-category]", "E0101")
        page.fill("[data-testid=call-description]", "路灯不亮")
        page.click("[data-testid=call-submit]")
        page.wait_for_selector("[data-testid=call-done], .call-form .error")
        assert page.locator("[data-testid=call-done]").count() == 1, page.inner_text("[data-testid=call-form]")
        assert page.locator("[data-testid=call-point]").count() == 0  # ready for the next call
        case = client.get("/api/v1/cases", query_string={"source": "hotline"},
                          headers=auth(tokens["supervisor"])).get_json()[0]
        assert case["cell"]["code"] == demo_cell["code"]
        assert abs(case["location"]["lon"] - demo_cell["lon"]) < 1e-4
        assert abs(case["location"]["lat"] - demo_cell["lat"]) < 1e-4
        assert case["location"]["source"] == "manual" and case["address"] is None
    finally:
        ctx.close()


def test_the_anonymous_box_sits_in_its_line_and_the_recorded_call_is_in_view(
        browser, live_server, demo_users):
    ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN", base_url=live_server.url)
    page = ctx.new_page()
    try:
        _login(page, demo_users)
        box = page.evaluate("""() => {
            const cb = document.querySelector('[data-testid=call-anonymous]');
            const label = cb.closest('label');
            const r = cb.getBoundingClientRect(), l = label.getBoundingClientRect();
            return { w: r.width, h: r.height, cy: r.top + r.height / 2, ly: l.top + l.height / 2,
                     inside: r.left >= l.left && r.right <= l.right && r.top >= l.top
                             && r.bottom <= l.bottom, lh: l.height };
        }""")
        # a box beside its words, in its label's line: not a field-wide input on its own
        assert box["w"] <= 24 and box["h"] <= 24, box
        assert box["inside"] and abs(box["cy"] - box["ly"]) < 4 and box["lh"] <= 48, box
        page.click("[data-testid=call-anonymous] >> xpath=..")  # the label toggles it
        assert page.is_checked("[data-testid=call-anonymous]")
        page.fill("[data-testid=call-phone]", "13812341234")
        page.select_option("[data-testid=call-category]", "E0101")
        page.fill("[data-testid=call-address]", "东华门街道多福巷社区")
        page.fill("[data-testid=call-description]", "楼道堆物")
        page.click("[data-testid=call-submit]")
        done = page.wait_for_selector("[data-testid=call-done]")
        assert "已受理" in done.inner_text()
        # in view without scrolling, however tall the form with its map
        page.wait_for_function("""() => {
            const r = document.querySelector('[data-testid=call-done]').getBoundingClientRect();
            return r.top >= 0 && r.bottom <= window.innerHeight;
        }""")
        assert page.evaluate("() => document.activeElement.dataset.testid") == "call-phone"
        assert_accessible(page, "call recorded", taps=False)
    finally:
        ctx.close()


def test_the_class_search_in_english_names_the_unit_of_the_calls_street(
        browser, live_server, demo_users, client, tokens):
    ctx = browser.new_context(viewport=DESKTOP, locale="en-GB", base_url=live_server.url)
    page = ctx.new_page()
    try:
        page.add_init_script("localStorage.setItem('gridsnap.lang', 'en')")
        _login(page, demo_users)
        # a place in 东四 first: 占道经营 goes to the street office there (派单目录)
        page.fill("[data-testid=call-address]", "东四六条5号")
        page.wait_for_selector("[data-testid=call-address-item]")
        page.press("[data-testid=call-address]", "Enter")
        page.fill("[data-testid=call-class]", "occupying the road")
        page.wait_for_selector("[data-testid=call-class-item]")
        first = page.inner_text("[data-testid=call-class-item] >> nth=0")
        assert "Business occupying the road" in first and "Local Subdistrict Office" in first
        assert_accessible(page, "class search in English", taps=False)
    finally:
        ctx.close()


def test_the_case_panel_shows_the_class_and_the_other_calls_of_the_number(
        browser, live_server, demo_users, client, tokens, demo_cell, runtime):
    first = take_call(client, tokens, call_body(demo_cell, request_class="010101",
                                                category=None))
    second = take_call(client, tokens, call_body(demo_cell, request_class="010101",
                                                 category=None))
    drain(runtime)
    ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN", base_url=live_server.url)
    page = ctx.new_page()
    try:
        name = PERSONAS["supervisor"]
        command_login(page, name, demo_users[name]["password"])
        page.goto(f"/#/list?case={second['id']}")
        page.wait_for_selector("[data-testid=case-repeat-calls]")
        assert "另有 1 次来电" in page.inner_text("[data-testid=case-repeat-calls]")
        assert f"#{first['number']}" in page.inner_text("[data-testid=case-repeat-calls]")
        assert "010101 垃圾清运不及时" in page.inner_text("[data-testid=case-class]")
        assert "13812341234" not in page.content()
    finally:
        ctx.close()


def test_repeat_requests_told_to_the_call_taker_and_on_the_case_panel(
        browser, live_server, demo_users, client, tokens, runtime):
    # an open request of 垃圾清运不及时 at 多福巷12号: a new call of that class there repeats it
    point = client.get("/api/v1/hotline/addresses", query_string={"q": "多福巷12号"},
                       headers=auth(tokens["call_taker"])).get_json()[0]
    earlier = take_call(client, tokens, call_body(request_class="010101", category=None,
                                                  address_id=point["address_id"]))
    drain(runtime)
    ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN", base_url=live_server.url)
    page = ctx.new_page()
    try:
        _login(page, demo_users)
        page.fill("[data-testid=call-class]", "ljqy")
        page.wait_for_selector("[data-testid=call-class-item]")
        page.press("[data-testid=call-class]", "Enter")
        page.fill("[data-testid=call-address]", "多福巷12号")
        page.wait_for_selector("[data-testid=call-address-item]")
        page.press("[data-testid=call-address]", "Enter")
        page.wait_for_selector("[data-testid=call-repeat-request]")
        told = page.inner_text("[data-testid=call-repeat-request]")
        assert "同类诉求 1 件" in told and f"#{earlier['number']}" in told
        assert_accessible(page, "repeat request notice", taps=False)
        page.fill("[data-testid=call-description]", "垃圾又没清运")
        page.click("[data-testid=call-submit]")
        page.wait_for_selector("[data-testid=call-done]")
    finally:
        ctx.close()
    drain(runtime)
    later = client.get("/api/v1/cases", query_string={"source": "hotline"},
                       headers=auth(tokens["supervisor"])).get_json()[0]
    assert later["id"] != earlier["id"]
    ctx = browser.new_context(viewport=DESKTOP, locale="en", base_url=live_server.url)
    page = ctx.new_page()
    try:
        page.add_init_script("localStorage.setItem('gridsnap.lang', 'en')")
        name = PERSONAS["supervisor"]
        command_login(page, name, demo_users[name]["password"])
        page.goto(f"/#/list?case={later['id']}")
        page.wait_for_selector("[data-testid=case-repeat-request]")
        assert "Repeat request" in page.inner_text("[data-testid=case-repeat-request]")
        assert "Address point" in page.inner_text("[data-testid=case-address-point]")
        page.wait_for_selector("[data-testid=dupe-repeat]")
        assert page.locator("[data-testid=dupe-repeat]").count() == 1
    finally:
        ctx.close()
