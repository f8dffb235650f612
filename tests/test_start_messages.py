"""What a start says: the warning that a year in use has no official holiday data is said once
per start. `gridsnap run` says it itself and tells the processes it starts under supervisord
(API workers, RQ workers) that it did; each of them started on its own still says it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from gridsnap.app import create_app
from gridsnap.deadlines.service import ANNOUNCED_ENV, missing_years_warning
from gridsnap.worker import run_worker

# a year whose State Council notice no holidays library can have yet
FAR = datetime(2041, 3, 2, 1, 0, tzinfo=UTC)


def calendar_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "gridsnap.deadlines" and "no official holiday data" in r.getMessage()]


@pytest.fixture
def far_year(at, caplog, monkeypatch):
    at(FAR)
    monkeypatch.delenv(ANNOUNCED_ENV, raising=False)
    caplog.set_level(logging.WARNING, logger="gridsnap.deadlines")


def test_the_warning_names_the_years_without_a_notice(settings, far_year):
    warning = missing_years_warning(settings)
    assert warning is not None
    assert warning.startswith("no official holiday data (the State Council's notice) for "
                              "2041, 2042: ")


def test_an_api_process_says_it_unless_gridsnap_run_has(runtime, far_year, caplog, monkeypatch):
    create_app(runtime=runtime)
    assert len(calendar_warnings(caplog)) == 1
    caplog.clear()
    monkeypatch.setenv(ANNOUNCED_ENV, "1")  # as under `gridsnap run`'s supervisord
    create_app(runtime=runtime)
    assert calendar_warnings(caplog) == []


def test_a_worker_says_it_unless_gridsnap_run_has(followup, far_year, caplog, monkeypatch):
    run_worker(followup, burst=True)
    assert len(calendar_warnings(caplog)) == 1
    caplog.clear()
    monkeypatch.setenv(ANNOUNCED_ENV, "1")
    run_worker(followup, burst=True)
    assert calendar_warnings(caplog) == []
