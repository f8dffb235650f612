"""The numbers screen (综合评价) renders the indicator table and 每月一题 the stats API returns,
and an export downloads with the bearer token. The API's answers are stubbed here (the stats
endpoints have their own tests); the screen must also say so plainly when a server has none."""

from __future__ import annotations

import json
from pathlib import Path

from cases_helpers import submit

from .command import DESKTOP
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

    def stub(body, content_type="application/json"):
        def handler(route):
            seen_auth.append(route.request.headers.get("authorization", ""))
            route.fulfill(status=200, content_type=content_type,
                          body=body if isinstance(body, str) else json.dumps(body))
        return handler

    page.route("**/api/v1/stats/indicators?*", stub(TABLE))
    page.route("**/api/v1/stats/top-problems?*", stub(TOP))
    page.route("**/api/v1/exports/indicators.csv?*", stub("街道,结案率\n东华门街道,90.00\n", "text/csv"))
    try:
        name = PERSONAS["supervisor"]
        page.goto("/")
        page.fill("#username", name)
        page.fill("#password", demo_users[name]["password"])
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=command]")
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
        page.goto("/")
        page.fill("#username", name)
        page.fill("#password", demo_users[name]["password"])
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=command]")
        page.click("[data-testid=tab-numbers]")
        page.wait_for_selector("[data-testid=indicator-row]")
        with page.expect_download() as dl:
            page.click("[data-testid=export-cases-csv]")
        text = Path(dl.value.path()).read_text(encoding="utf-8-sig")
        assert str(number) in text and demo_cell["code"] in text
    finally:
        ctx.close()
