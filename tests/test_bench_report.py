"""How `make bench` writes a run down: the dated section at the end of
docs/benchmarks-history.md, and this run's figures into the current-figures table at the top of
docs/benchmarks.md (the rows of the targets it measured replaced, the others kept)."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime

import pytest

from bench import report
from bench.grid import GRID_1K, GRID_100K
from bench.loadgen import WrkRun

INFO = {"nproc": "2", "cpu": "Test CPU", "ram": "8.0 GiB", "kernel": "6.1.0", "commit": "abc1234",
        "uncommitted": "", "date": "Tue Dec  8 10:00:00 UTC 2026"}
WHEN = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)


def table_rows(text: str) -> dict[str, list[str]]:
    """target -> the other cells of its row, from the current-figures table."""
    table = text.split(report.SUMMARY_BEGIN, 1)[1].split(report.SUMMARY_END, 1)[0]
    lines = [ln for ln in table.strip().splitlines() if ln.startswith("|")]
    assert lines[:2] == report.SUMMARY_HEAD.splitlines()
    rows = {}
    for ln in lines[2:]:
        cells = [c.strip() for c in ln.strip().strip("|").split(" | ")]
        assert len(cells) == 6, ln
        assert cells[0] not in rows, f"two rows for {cells[0]}"
        rows[cells[0]] = cells[1:]
    return rows


def wrk(rps: float, p99: float) -> WrkRun:
    return WrkRun(requests=int(rps * 10), seconds=10.0, rps=rps, p50_ms=p99 / 2, p90_ms=p99 * 0.8,
                  p99_ms=p99, max_ms=p99 * 2, non_2xx=0, socket_errors=0)


def intake_results(*grids) -> report.Results:
    res = report.Results(quick=False, runs=1, seconds=10, pg_seconds=10, workers=2,
                         grids=[GRID_1K, GRID_100K])
    for g in grids:
        res.wrk[("real", g)] = [wrk(900.0, 30.0)]
        res.wrk[("minimal", g)] = [wrk(1200.0, 20.0)]
        res.wrk[("nginx", g)] = [wrk(850.0, 32.0)]
    res.info = dict(INFO)
    return res


@pytest.fixture
def docs(tmp_path):
    doc, history = tmp_path / "benchmarks.md", tmp_path / "benchmarks-history.md"
    shutil.copy(report.DOC, doc)
    shutil.copy(report.HISTORY, history)
    return doc, history


def test_the_current_figures_table_gives_each_target_its_run_commit_and_machine():
    rows = table_rows(report.DOC.read_text(encoding="utf-8"))
    assert "real API ≥ 800 reports/s (1k grid)" in rows
    for target, (latest, verdict, run, commit, machine) in rows.items():
        assert latest and verdict, target
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", run), (target, run)
        assert re.fullmatch(r"`[0-9a-f]{7,40}`( \(uncommitted changes\))?", commit), (target, commit)
        assert re.match(r"\d+ CPUs, .+ RAM, Linux \S+$", machine), (target, machine)


def test_every_intake_target_the_bench_measures_has_its_row_already():
    """A run replaces the rows of its targets: the bench names them as the table does."""
    rows = table_rows(report.DOC.read_text(encoding="utf-8"))
    measured = [t for t, _, _ in intake_results("1k", "100k").target_rows()]
    assert len(measured) == 9
    # the front server has been measured on the 100k grid only so far: a full run adds this one
    assert [t for t in measured if t not in rows] == [
        "through nginx / straight to gunicorn ≥ 0.9 (1k grid)"]


def test_a_run_replaces_the_rows_it_measured_and_keeps_the_others(docs):
    doc, history = docs
    before_doc = table_rows(doc.read_text(encoding="utf-8"))
    before_history = history.read_text(encoding="utf-8")
    res = intake_results("1k")
    section = res.markdown()
    extra = [("a new part's figure < 5 ms", "3.0 ms", "PASS")]

    report.record(section, res.target_rows() + extra, res.info, when=WHEN, doc=doc,
                  history=history)

    after = table_rows(doc.read_text(encoding="utf-8"))
    machine = "2 CPUs, Test CPU, 8.0 GiB RAM, Linux 6.1.0"
    assert after["real API ≥ 800 reports/s (1k grid)"] == [
        "900", "PASS", "2026-12-08 10:00", "`abc1234`", machine]
    assert after["real API p99 < 50 ms (1k grid)"][:2] == ["30.0 ms", "PASS"]
    assert after["real API / minimal endpoint ≥ 0.6 (1k grid)"][:2] == ["0.75", "PASS"]
    assert after["through nginx / straight to gunicorn ≥ 0.9 (1k grid)"][:2] == ["0.94", "PASS"]
    # what this run did not measure keeps its figure, and the order of the table stays
    untouched = [t for t in before_doc if "(1k grid)" not in t]
    assert untouched and all(after[t] == before_doc[t] for t in untouched)
    assert list(after)[:len(before_doc)] == list(before_doc)
    assert list(after)[-1] == "a new part's figure < 5 ms"
    assert after["a new part's figure < 5 ms"][:2] == ["3.0 ms", "PASS"]
    # the history keeps every earlier run and gains this one at its end
    text = history.read_text(encoding="utf-8")
    assert text.startswith(before_history.rstrip("\n"))
    assert text.rstrip("\n").endswith(section.rstrip("\n"))
    assert "Commit abc1234." in section


def test_a_run_with_uncommitted_changes_says_so(docs):
    doc, history = docs
    res = intake_results("100k")
    res.info["uncommitted"] = "with uncommitted changes"
    report.record(res.markdown(), res.target_rows(), res.info, when=WHEN, doc=doc,
                  history=history)
    row = table_rows(doc.read_text(encoding="utf-8"))["real API ≥ 800 reports/s (100k grid)"]
    assert row[3] == "`abc1234` (uncommitted changes)"
    assert "Commit abc1234 with uncommitted changes." in history.read_text(encoding="utf-8")


def test_a_doc_without_the_table_is_refused_not_overwritten(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nno table here\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no current-figures table"):
        report.record("## a run", [("x < 1 ms", "0.5 ms", "PASS")], INFO, when=WHEN, doc=doc,
                      history=tmp_path / "h.md")
    assert doc.read_text(encoding="utf-8") == "# Benchmarks\n\nno table here\n"
    assert not (tmp_path / "h.md").exists()
