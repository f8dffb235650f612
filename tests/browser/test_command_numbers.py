"""The numbers screen (综合评价) renders the indicator table and 每月一题 the stats API returns,
and an export downloads with the bearer token. The API's answers are stubbed here (the stats
endpoints have their own tests); the screen must also say so plainly when a server has none."""

from __future__ import annotations

import json
from pathlib import Path

from cases_helpers import submit

from .command import DESKTOP
from .pwa import command_login
from conftest import PERSONAS, auth

ROW = {"accepted": 12, "due": 10, "closed": 9, "closure_rate": 90.0, "on_time_closure_rate": 80.0,
       "on_time_handling_rate": 85.714, "rework_rate": 10.0, "first_time_rate": 88.89,
       "overdue": 1, "median_accept_hours": 1.25, "median_handle_hours": None,
       "composite_score": 86.5, "summoned": 4, "reported_in_on_time": 2, "report_in_rate": 50.0,
       "notices": 3, "notice_reply_rate": 66.67}
TABLE = {"period": {"label": "2026-11"}, "group": "street", "area": None,
         "rows": [{"key": "110101001", "name": "东华门街道", **ROW}],
         "total": {"key": None, "name": None, **ROW}}
TOP = {"period": {"label": "2026-11"}, "level": "community", "months": ["2026-10", "2026-11"],
       "items": [{"category": {"code": "E0101", "name": "暴露垃圾"},
                  "area": {"code": "110101001001", "name": "多福巷社区", "level": "community"},
                  "count": 7, "trend": [{"month": "2026-10", "count": 3},
                                        {"month": "2026-11", "count": 7}],
                  "previous_average": 3.0,
                  "cells": [{"code": "110101001001001", "name": "001号网格", "count": 4}]}]}


def test_numbers_table_top_problems_and_export(browser, live_server, demo_users):
    ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN", base_url=live_server.url,
                              accept_downloads=True)
    page = ctx.new_page()
    seen_auth: list[str] = []

    asked: list[str] = []

    def stub(body, content_type="application/json"):
        def handler(route):
            seen_auth.append(route.request.headers.get("authorization", ""))
            asked.append(route.request.url)
            route.fulfill(status=200, content_type=content_type,
                          body=body if isinstance(body, str) else json.dumps(body))
        return handler

    page.route("**/api/v1/stats/indicators?*", stub(TABLE))
    page.route("**/api/v1/stats/top-problems?*", stub(TOP))
    page.route("**/api/v1/exports/indicators.csv?*", stub("街道,结案率\n东华门街道,90.00\n", "text/csv"))
    try:
        name = PERSONAS["supervisor"]
        command_login(page, name, demo_users[name]["password"])
        page.click("[data-testid=tab-numbers]")
        page.wait_for_selector("[data-testid=indicator-row]")
        rows = page.locator("[data-testid=indicator-row]")
        assert rows.count() == 2  # the street and the total
        first = rows.nth(0).inner_text()
        assert "东华门街道" in first and "90.00%" in first and "85.71%" in first and "—" in first
        assert "合计" in rows.nth(1).inner_text()
        assert "86.50" in first and "综合指标值" in page.inner_text("[data-testid=indicator-table]")
        # the view of joint cases and notices (报到率, 督办), by department
        page.select_option("[data-testid=num-view]", "joint")
        head = page.inner_text("[data-testid=indicator-table] thead")
        assert "报到率" in head and "督办数" in head
        assert "50.00%" in rows.nth(0).inner_text() and "66.67%" in rows.nth(0).inner_text()
        page.select_option("[data-testid=num-view]", "main")
        assert "暴露垃圾" in page.inner_text("[data-testid=top-problems]")
        # the year: its months added up (period=YYYY), said under the table
        month = page.input_value("[data-testid=num-period]")
        assert page.locator("[data-testid=num-year-note]").count() == 0
        with page.expect_request(
                lambda r: f"stats/indicators?period={month[:4]}&" in r.url) as year_asked:
            page.select_option("[data-testid=num-span]", "year")
        assert "group=street" in year_asked.value.url
        page.wait_for_selector("[data-testid=num-year-note]")
        assert "各月相加" in page.inner_text("[data-testid=num-year-note]")
        assert any(f"stats/indicators?period={month[:4]}&" in u for u in asked)
        with page.expect_download() as dl:
            page.click("[data-testid=export-indicators-csv]")
        path = dl.value.path()
        assert "东华门街道" in Path(path).read_text(encoding="utf-8")
        assert dl.value.suggested_filename.endswith(".csv")
        assert seen_auth and all(a.startswith("Bearer ") for a in seen_auth)
    finally:
        ctx.close()


def test_case_export_downloads_with_the_token(browser, live_server, demo_users, client, tokens,
                                              demo_cell, runtime):
    cid = submit(client, tokens, demo_cell, runtime)
    number = client.get(f"/api/v1/cases/{cid}", headers=auth(tokens["supervisor"])).get_json()["number"]
    ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN", base_url=live_server.url,
                              accept_downloads=True)
    page = ctx.new_page()
    try:
        name = PERSONAS["supervisor"]
        command_login(page, name, demo_users[name]["password"])
        page.click("[data-testid=tab-numbers]")
        page.wait_for_selector("[data-testid=indicator-row]")
        with page.expect_download() as dl:
            page.click("[data-testid=export-cases-csv]")
        text = Path(dl.value.path()).read_text(encoding="utf-8-sig")
        assert str(number) in text and demo_cell["code"] in text
    finally:
        ctx.close()


RANKING = {"period": {"label": "2026-11"}, "previous_period": "2026-10", "group": "street",
           "area": None, "missing": "exclude",
           "weights": [{"rate": "response_rate", "weight": 0.1},
                       {"rate": "resolution_rate", "weight": 0.45},
                       {"rate": "satisfaction_rate", "weight": 0.45}],
           "rows": [
               {"key": "110101006", "name": "东四街道", "name_en": "Dongsi Subdistrict", "rank": 1,
                "movement": 1, "previous_rank": 2, "score": 100.0, "response_rate": 100.0,
                "resolution_rate": 100.0, "satisfaction_rate": 100.0, "requests": 1,
                "population": 38500, "requests_per_10k": 0.26, "excluded_requests": 0,
                "reduced_requests": 0},
               {"key": "110101001", "name": "东华门街道", "name_en": "Donghuamen Subdistrict",
                "rank": 2, "movement": -1, "previous_rank": 1, "score": 55.0,
                "response_rate": 100.0, "resolution_rate": 50.0, "satisfaction_rate": 50.0,
                "requests": 3, "population": 31200, "requests_per_10k": 0.96,
                "excluded_requests": 0, "reduced_requests": 1},
               {"key": "110101002", "name": "景山街道", "name_en": "Jingshan Subdistrict",
                "rank": None, "movement": None, "previous_rank": None, "score": None,
                "response_rate": None, "resolution_rate": None, "satisfaction_rate": None,
                "requests": 1, "population": 24600, "requests_per_10k": 0.41,
                "excluded_requests": 0, "reduced_requests": 0}]}


def _answering(body: dict, asked: list[str]):
    def handler(route):
        asked.append(route.request.url)
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))
    return handler


def test_the_ranking_in_chinese_and_english_and_its_export(browser, live_server, demo_users):
    """考评排名 on the numbers screen: rank, places gained (↑) and lost (↓), the area's names in
    the page's language, the score and 三率, per 10,000 residents; its XLSX downloads."""
    for locale, lang, names, words in (
            ("zh-CN", "zh-CN", ("东四街道", "东华门街道", "景山街道"), ("考评排名", "万人诉求量")),
            ("en-GB", "en", ("Dongsi Subdistrict", "Donghuamen Subdistrict",
                             "Jingshan Subdistrict"),
             ("Monthly assessment ranking", "Requests per 10,000 residents"))):
        ctx = browser.new_context(viewport=DESKTOP, locale=locale, base_url=live_server.url,
                                  accept_downloads=True)
        page = ctx.new_page()
        asked: list[str] = []
        page.route("**/api/v1/stats/ranking?*", _answering(RANKING, asked))
        page.route("**/api/v1/stats/indicators?*",
                   lambda route: route.fulfill(status=200, content_type="application/json",
                                               body=json.dumps(TABLE)))
        page.route("**/api/v1/exports/ranking.xlsx?*",
                   lambda route: route.fulfill(status=200, body=b"PK\x03\x04",
                                               content_type="application/octet-stream"))
        try:
            name = PERSONAS["supervisor"]
            command_login(page, name, demo_users[name]["password"], lang=lang)
            page.click("[data-testid=tab-numbers]")
            page.wait_for_selector("[data-testid=ranking-row]")
            rows = page.locator("[data-testid=ranking-row]")
            assert rows.count() == 3
            first, second, third = (rows.nth(i).inner_text() for i in range(3))
            assert names[0] in first and "↑1" in first and "100.00" in first
            assert names[1] in second and "↓1" in second and "55.00" in second
            assert "50.00%" in second and "0.96" in second and "31200" in second
            assert names[2] in third and "—" in third
            section = page.inner_text("[data-testid=ranking]")
            assert all(w in section for w in words), section
            assert "2026-10" in section  # compared with last month
            assert "period=" in asked[0] and "group=street" in asked[0]
            with page.expect_download() as dl:
                page.click("[data-testid=export-ranking-xlsx]")
            assert dl.value.suggested_filename.endswith("-street.xlsx")
        finally:
            ctx.close()


HOT = {"period": {"label": "2026-11"}, "level": "community", "area": None,
       "months": ["2026-08", "2026-09", "2026-10", "2026-11"], "min_count": 3, "factor": 2.0,
       "items": [{"category": {"code": "E0101", "name": "暴露垃圾", "name_en": "Exposed rubbish"},
                  "area": {"code": "110101001001", "name": "多福巷社区",
                           "name_en": "Duofuxiang Community", "level": "community"},
                  "count": 4, "trend": [], "previous_average": 1.0, "rise": 3.0, "cells": [],
                  "taken_on_by": []}]}


def test_a_hot_spot_made_the_problem_of_the_month(browser, live_server, demo_users):
    """主动治理: the month's hot spots on the numbers screen; one made this month's 每月一题."""
    ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN", base_url=live_server.url)
    page = ctx.new_page()
    posted: list[dict] = []
    state = {"taken": False}

    def hot(route):
        body = json.loads(json.dumps(HOT))
        if state["taken"]:
            body["items"][0]["taken_on_by"] = [{"id": 7, "name": posted[0]["name"],
                                                "kind": "monthly_topic"}]
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    def campaigns(route):
        if route.request.method != "POST":
            return route.fallback()
        posted.append(route.request.post_data_json)
        state["taken"] = True
        return route.fulfill(status=201, content_type="application/json",
                             body=json.dumps({"id": 7}))

    page.route("**/api/v1/campaigns/hot-spots?*", hot)
    page.route("**/api/v1/campaigns", campaigns)
    try:
        name = PERSONAS["supervisor"]
        command_login(page, name, demo_users[name]["password"])
        page.click("[data-testid=tab-numbers]")
        page.fill("[data-testid=num-period]", "2026-11")
        page.wait_for_selector("[data-testid=hot-spot]")
        text = page.inner_text("[data-testid=hot-spots]")
        assert "暴露垃圾" in text and "多福巷社区" in text and "4" in text
        page.click("[data-testid=hot-spot-take-on]")
        page.wait_for_selector("[data-testid=hot-spot-taken]")
        assert posted == [{"name": "2026-11 每月一题：多福巷社区暴露垃圾", "kind": "monthly_topic",
                           "category": "E0101", "area_prefix": "110101001001",
                           "starts_on": "2026-11-01", "ends_on": "2026-11-30"}]
        assert "已由" in page.inner_text("[data-testid=hot-spot-taken]")
    finally:
        ctx.close()


CALL_TAKERS = {
    "period": {"label": "2026-11"}, "area": None, "handling_max_seconds": 14400,
    "rows": [{"user": {"id": 7, "username": "hotline1", "display_name": "话务员小王",
                       "role": "call_taker"},
              "calls": 4, "consultations": 1, "timed_calls": 3, "callbacks": 2,
              "callbacks_reached": 1, "callback_reach_rate": 50.0,
              "average_handling_seconds": 100.0}],
    "total": {"calls": 4, "consultations": 1, "timed_calls": 3, "callbacks": 2,
              "callbacks_reached": 1, "callback_reach_rate": 50.0,
              "average_handling_seconds": 100.0}}


def test_the_call_takers_figures_in_both_languages_and_their_export(browser, live_server,
                                                                    demo_users):
    for locale, lang, words in (
            ("zh-CN", "zh-CN", ("话务员工作量", "平均受理时长（秒）", "回访接通率", "合计")),
            ("en", "en", ("Call-takers", "Average handling time (s)", "Callback reach rate",
                          "Total"))):
        ctx = browser.new_context(viewport=DESKTOP, locale=locale, base_url=live_server.url,
                                  accept_downloads=True)
        page = ctx.new_page()
        asked: list[str] = []
        page.route("**/api/v1/stats/call-takers?*", _answering(CALL_TAKERS, asked))
        page.route("**/api/v1/stats/indicators?*",
                   lambda route: route.fulfill(status=200, content_type="application/json",
                                               body=json.dumps(TABLE)))
        page.route("**/api/v1/exports/call-takers.csv?*",
                   lambda route: route.fulfill(status=200, body="\ufeff话务员账号\r\n".encode(),
                                               content_type="text/csv"))
        try:
            name = PERSONAS["supervisor"]
            command_login(page, name, demo_users[name]["password"], lang=lang)
            page.click("[data-testid=tab-numbers]")
            page.wait_for_selector("[data-testid=call-taker-row]")
            rows = page.locator("[data-testid=call-taker-row]")
            assert rows.count() == 2
            first = rows.nth(0).inner_text()
            assert "话务员小王" in first and "100.0" in first and "50.00%" in first
            section = page.inner_text("[data-testid=call-takers]")
            assert all(w in section for w in words), section
            assert "period=" in asked[0]
            with page.expect_download() as dl:
                page.click("[data-testid=export-call-takers-csv]")
            assert dl.value.suggested_filename.startswith("call-takers-")
        finally:
            ctx.close()
