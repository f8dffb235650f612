"""The results as one Markdown table set: printed, appended as a dated section to
docs/benchmarks-history.md, and the rows of the current-figures table at the top of
docs/benchmarks.md replaced by this run's figures of the targets it measured."""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
from datetime import datetime
from pathlib import Path

from .env import REPO_ROOT

DOC = REPO_ROOT / "docs" / "benchmarks.md"
HISTORY = REPO_ROOT / "docs" / "benchmarks-history.md"
# the current-figures table of DOC lies between these two lines
SUMMARY_BEGIN = "<!-- bench:current-figures:begin (bench/report.py rewrites the rows) -->"
SUMMARY_END = "<!-- bench:current-figures:end -->"
SUMMARY_HEAD = ("| target | latest | verdict | run (UTC) | commit | machine |\n"
                "|---|---:|---|---|---|---|")

TARGET_RPS = 800
TARGET_P99_MS = 50
TARGET_VS_MINIMAL = 0.6
TARGET_GRID_RATIO = 1 / 1.2  # the 100k grid within 1.2× of the 1k grid
TARGET_DRAIN = 2.0
TARGET_FRONT = 0.9  # nginx in front keeps at least 90% of the rate straight to gunicorn

HISTORY_HEADER = """# Benchmarks: every recorded run

Each recorded run of `make bench` appends a dated section here (the current figure of each
target is the table at the top of [benchmarks.md](benchmarks.md), which says how each part is
measured). Compare ratios taken in one run, not absolute figures across runs (the machines are
noisy, ±20%).
"""


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _n(v, digits=0) -> str:
    if v is None:
        return "–"
    return f"{v:,.{digits}f}"


def verdict(ok: bool | None) -> str:
    return {True: "PASS", False: "MISS", None: "–"}[ok]


def machine_info(versions: dict[str, str]) -> dict[str, str]:
    def run(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.TimeoutExpired):
            return ""

    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    wrk = (run(["wrk", "--version"]).split("[")[0].replace("wrk", "").strip() or "?")
    import gunicorn

    # the code measured: HEAD, and whether tracked files differ from it
    commit = run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"]).strip() or "?"
    changed = run(["git", "-C", str(REPO_ROOT), "status", "--porcelain",
                   "--untracked-files=no"]).strip()
    return {
        "date": run(["date", "-u"]).strip(),
        "commit": commit,
        "uncommitted": "with uncommitted changes" if changed else "",
        "nproc": run(["nproc"]).strip() or str(os.cpu_count()),
        "cpu": cpu,
        "ram": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "gunicorn": gunicorn.__version__,
        "wrk": wrk,
        **versions,
    }


class Results:
    """What one run measured, by grid name; rendered by `markdown()`."""

    def __init__(self, *, quick: bool, runs: int, seconds: float, pg_seconds: float,
                 workers: int, grids) -> None:
        self.quick, self.runs, self.seconds, self.pg_seconds = quick, runs, seconds, pg_seconds
        self.workers = workers
        self.grids = grids  # [Grid]
        self.wrk: dict[tuple[str, str], list] = {}  # (server, grid) -> [WrkRun]
        self.pgbench: dict[tuple[str, int, str], list] = {}  # (script, clients, grid) -> runs
        self.storm = None
        self.info: dict[str, str] = {}
        self.notes: list[str] = []

    # --- figures -------------------------------------------------------------------------

    def wrk_runs(self, server: str, grid: str) -> list:
        return self.wrk.get((server, grid), [])

    def rps(self, server: str, grid: str):
        return median([r.rps for r in self.wrk_runs(server, grid)])

    def failed_runs(self, server: str, grid: str) -> int:
        return sum(1 for r in self.wrk_runs(server, grid) if not r.ok)

    def ratio_vs_minimal(self, grid: str):
        real, minimal = self.rps("real", grid), self.rps("minimal", grid)
        return real / minimal if real and minimal else None

    def front_ratio(self, grid: str):
        """reports/s through nginx over reports/s straight to gunicorn (same run, same grid)."""
        proxied, direct = self.rps("nginx", grid), self.rps("real", grid)
        return proxied / direct if proxied and direct else None

    def front_added_p50_ms(self, grid: str):
        proxied = median([r.p50_ms for r in self.wrk_runs("nginx", grid)])
        direct = median([r.p50_ms for r in self.wrk_runs("real", grid)])
        return proxied - direct if proxied is not None and direct is not None else None

    def front_cpu_us(self, grid: str) -> dict | None:
        """Median CPU microseconds per request of nginx and of gunicorn (its workers) in the
        runs through nginx, and nginx's share of gunicorn's: what the front server costs in
        CPU, which other processes' load hardly disturbs (the rates above it does)."""
        per = {"nginx": [], "api": []}
        for r in self.wrk_runs("nginx", grid):
            if r.server_cpu_s and r.requests:
                for k in per:
                    per[k].append(r.server_cpu_s.get(k, 0.0) / r.requests * 1e6)
        nginx, api = median(per["nginx"]), median(per["api"])
        if not nginx or not api:
            return None
        return {"nginx": nginx, "api": api, "share": nginx / api}

    def grid_ratio(self):
        a, b = self.rps("real", "1k"), self.rps("real", "100k")
        return b / a if a and b else None

    # --- rendering -----------------------------------------------------------------------

    def _cell_rps(self, server: str, grid: str) -> str:
        runs = self.wrk_runs(server, grid)
        if not runs:
            return "–"
        text = f"**{_n(self.rps(server, grid))}**"
        if len(runs) > 1:
            text += " (" + ", ".join(_n(r.rps) for r in runs) + ")"
        return text

    def _cell_latency(self, server: str, grid: str) -> str:
        runs = self.wrk_runs(server, grid)
        if not runs:
            return "–"
        return (f"{_n(median([r.p50_ms for r in runs]), 1)} / "
                f"{_n(median([r.p99_ms for r in runs]), 1)}")

    def _cell_errors(self, server: str, grid: str) -> str:
        runs = self.wrk_runs(server, grid)
        if not runs:
            return "–"
        non2xx = sum(r.non_2xx for r in runs)
        sock = sum(r.socket_errors for r in runs)
        failed = self.failed_runs(server, grid)
        text = f"{non2xx} / {sock}"
        return text + (f" — **{failed} FAILED run(s)**" if failed else "")

    def _cell_pg(self, script: str, clients: int, grid: str) -> str:
        runs = self.pgbench.get((script, clients, grid), [])
        if not runs:
            return "–"
        text = f"**{_n(median([r.tps for r in runs]))}**"
        if len(runs) > 1:
            text += " (" + ", ".join(_n(r.tps) for r in runs) + ")"
        failed = sum(r.failed for r in runs)
        return text + (f" — **{failed} failed**" if failed else "")

    def markdown(self) -> str:
        i = self.info
        kind = "quick smoke run (`--quick`)" if self.quick else "full run"
        out = [f"## {i.get('date', '?')} — {kind}", ""]
        out.append(
            f"Machine: {i.get('nproc')} CPUs (nproc), {i.get('cpu')}, {i.get('ram')} RAM, "
            f"Linux {i.get('kernel')}. PostgreSQL {i.get('postgresql')}, PostGIS "
            f"{i.get('postgis')} (GEOS {i.get('geos')}), Redis {i.get('redis')}; Python "
            f"{i.get('python')}, gunicorn {i.get('gunicorn')} ({self.workers} sync workers), "
            f"wrk {i.get('wrk')}. Commit {i.get('commit', '?')}"
            f"{' ' + i['uncommitted'] if i.get('uncommitted') else ''}.")
        out.append("")
        if self.wrk or self.pgbench:
            measured = {k[-1] for k in [*self.wrk, *self.pgbench]}
            cols = [g for g in self.grids if g.name in measured]
            head = "| | " + " | ".join(f"{g.name} grid ({g.cells:,} cells)" for g in cols) + " |"
            out += [
                f"### Intake: `PUT /api/v1/reports/{{uuid}}`, wrk -t2 -c16 -d{self.seconds:g}s, "
                f"median of {self.runs} run(s) (each run in brackets)", "",
                head, "|---|" + "---:|" * len(cols)]

            def row(label, fn):
                out.append(f"| {label} | " + " | ".join(fn(g.name) for g in cols) + " |")

            servers = {k[0] for k in self.wrk}
            for server, label in (("real", "real API"),
                                  ("nginx", "real API through nginx"),
                                  ("minimal", "floor A: minimal endpoint")):
                if server not in servers:
                    continue
                short = "floor A" if server == "minimal" else label
                row(f"{label}, reports/s", lambda g, s=server: self._cell_rps(s, g))
                row(f"{short}, p50 / p99 latency, ms",
                    lambda g, s=server: self._cell_latency(s, g))
                row(f"{short}, non-2xx / socket errors",
                    lambda g, s=server: self._cell_errors(s, g))
            if self.pgbench:
                row(f"floor B: same INSERT from pgbench, 2 clients, TPS (-T {self.pg_seconds:g})",
                    lambda g: self._cell_pg("minimal", 2, g))
                row("floor B: same INSERT from pgbench, 8 clients, TPS",
                    lambda g: self._cell_pg("minimal", 8, g))
                row("context: real intake statement (+ event, outbox, area joins) from "
                    "pgbench, 2 clients, TPS", lambda g: self._cell_pg("full", 2, g))
            row("other processes' CPU load during these runs, cores (max)",
                lambda g: _n(max([r.background_cores or 0 for k, v in
                                  [*self.wrk.items(), *self.pgbench.items()]
                                  if k[-1] == g for r in v], default=None), 2))
            if "nginx" in servers:
                row(f"**through nginx / straight to gunicorn** (target ≥ {TARGET_FRONT:g})",
                    lambda g: f"**{_n(self.front_ratio(g), 2)}**")
                row("what the front server costs: rate lost, p50 added",
                    lambda g: "–" if self.front_ratio(g) is None else
                    f"{(1 - self.front_ratio(g)) * 100:.0f}%, "
                    f"{self.front_added_p50_ms(g):+.1f} ms")
                row("CPU per report through nginx: nginx / gunicorn, µs (nginx's share)",
                    lambda g: "–" if not (c := self.front_cpu_us(g)) else
                    f"{c['nginx']:,.0f} / {c['api']:,.0f} (**{c['share'] * 100:.1f}%**)")
            if "minimal" in servers:
                row("**real API / floor A** (target ≥ 0.6)",
                    lambda g: f"**{_n(self.ratio_vs_minimal(g), 2)}**")
            if "minimal" in servers and self.pgbench:
                row("real API / floor B at 2 clients",
                    lambda g: _n(self._ratio_pg(g), 2))
            out.append("")
        out += self._targets()
        if self.storm is not None:
            out += self._storm()
        if self.notes:
            out += ["Notes:", ""] + [f"- {n}" for n in self.notes] + [""]
        return "\n".join(out)

    def _ratio_pg(self, grid: str):
        real = self.rps("real", grid)
        pg = median([r.tps for r in self.pgbench.get(("minimal", 2, grid), [])])
        return real / pg if real and pg else None

    def _targets(self) -> list[str]:
        rows = self.target_rows()
        if not rows:
            return []
        return ["### Targets", "", "| target | measured | verdict |", "|---|---:|---|",
                *(f"| {t} | {m} | {v} |" for t, m, v in rows), ""]

    def target_rows(self) -> list[tuple[str, str, str]]:
        """(target, measured, verdict) of every target this run measured."""
        rows = []
        names = [g.name for g in self.grids]
        if self.wrk:
            for g in names:
                if not self.wrk_runs("real", g):
                    continue
                invalid = self.failed_runs("real", g) > 0
                rps = self.rps("real", g)
                p99 = median([r.p99_ms for r in self.wrk_runs("real", g)])
                ratio = self.ratio_vs_minimal(g)
                bad = invalid or self.failed_runs("minimal", g) > 0

                def v(ok, failed=invalid):
                    return "FAILED RUN" if failed else verdict(ok)
                rows.append((f"real API ≥ {TARGET_RPS} reports/s ({g} grid)", _n(rps),
                             v(rps is not None and rps >= TARGET_RPS)))
                rows.append((f"real API p99 < {TARGET_P99_MS} ms ({g} grid)", f"{_n(p99, 1)} ms",
                             v(p99 is not None and p99 < TARGET_P99_MS)))
                if self.wrk_runs("minimal", g):
                    rows.append((f"real API / minimal endpoint ≥ {TARGET_VS_MINIMAL} ({g} grid)",
                                 _n(ratio, 2),
                                 v(None if ratio is None else ratio >= TARGET_VS_MINIMAL, bad)))
                front = self.front_ratio(g)
                if front is not None:
                    bad = invalid or self.failed_runs("nginx", g) > 0
                    rows.append((f"through nginx / straight to gunicorn ≥ {TARGET_FRONT:g} "
                                 f"({g} grid)", f"{front:.2f}", v(front >= TARGET_FRONT, bad)))
            gr = self.grid_ratio()
            if gr is not None:
                bad = self.failed_runs("real", "1k") + self.failed_runs("real", "100k") > 0
                rows.append((f"100k grid / 1k grid, real API ≥ {TARGET_GRID_RATIO:.2f} "
                             "(within 1.2×)", f"{gr:.2f}",
                             "FAILED RUN" if bad else verdict(gr >= TARGET_GRID_RATIO)))
        s = self.storm
        if s is not None:
            ok = None if s.drain_over_intake is None else s.drain_over_intake <= TARGET_DRAIN
            said = verdict(ok) if s.ok or ok is None else f"{verdict(ok)}, FAILED RUN"
            if s.drain_over_intake is None:
                said = "FAILED RUN (not drained)"
            elif s.stuck_messages:
                said = (f"{verdict(ok)} for all but {s.stuck_messages} stuck messages; "
                        "FAILED RUN")
            rows.append((f"sync storm: follow-up drain / intake ≤ {TARGET_DRAIN:g}×",
                         f"{_n(s.drain_over_intake, 2)}×", said))
        return rows

    def _storm(self) -> list[str]:
        s = self.storm
        cpu = "; ".join(f"{k} {v:.2f}" if "cores" in k else f"{k} {v:.1f}"
                        for k, v in s.cpu_s.items())
        last = ", ".join(f"{k} {v:.1f} s" for k, v in sorted(s.last_done_by_topic_s.items()))
        return [
            f"### Sync storm: {s.reports:,} reports + {s.photos:,} photos, 16 connections, "
            "relay + 2 RQ workers running", "",
            "| | |", "|---|---:|",
            f"| photos | 4000×3000 JPEG with EXIF GPS, mean {s.photo_mean_bytes / 1e6:.2f} MB, "
            "each with its own SHA-256 |",
            f"| intake time (first request → last response) | **{s.intake_s:.1f} s** |",
            f"| at intake: reports/s, photos/s | {s.reports_per_s:,.0f} / "
            f"{s.photos_per_s:,.1f} |",
            f"| report p50 / p99, photo p50 / p99 (ms) | {s.report_p50_ms:.0f} / "
            f"{s.report_p99_ms:.0f}, {s.photo_p50_ms:.0f} / {s.photo_p99_ms:.0f} |",
            f"| follow-up finished (no outbox message left to do), after the first request | "
            f"**{_n(s.drain_s, 1)} s**"
            f"{f' (all but the {s.stuck_messages} stuck)' if s.stuck_messages else ''} |",
            f"| **drain / intake** (target ≤ {TARGET_DRAIN:g}×) | **{_n(s.drain_over_intake, 2)}×** |",
            f"| last message done, by topic (database clock) | {last or '–'} |",
            f"| outbox messages / failed for good / retried; RQ failed jobs | "
            f"{s.outbox_total:,} / {s.outbox_failed} / {s.outbox_retried}; {s.rq_failed_jobs} |",
            f"| outbox messages stuck in flight (job finished without doing them) | "
            f"{s.stuck_messages} |",
            f"| messages scheduled for later (stage deadline checks), not waited for | "
            f"{s.scheduled_later:,} |",
            f"| other RQ jobs failed during the storm (not part of the follow-up) | "
            f"{'; '.join(f'{k}: {v}' for k, v in s.rq_other_failed.items()) or 'none'} |",
            f"| reports routed (routed_at, due_at and a department) | {s.routed:,} of "
            f"{s.reports:,} |",
            f"| photos processed (thumb_key + display_key), derivative files missing | "
            f"{s.photos_processed:,} of {s.photos:,}, {s.derivative_files_missing} |",
            f"| client errors (non-201) | {s.client_errors or 'none'} |",
            f"| CPU during the storm | {cpu} |",
            f"| verdict | {'ok' if s.ok else 'FAILED: ' + '; '.join(s.failures)} |",
            "",
        ]


def machine_label(info: dict[str, str]) -> str:
    """The machine of a run, short enough for a table cell."""
    return (f"{info.get('nproc', '?')} CPUs, {info.get('cpu', '?')}, {info.get('ram', '?')} RAM, "
            f"Linux {info.get('kernel', '?')}")


def append_to_history(section: str, history: Path = HISTORY) -> Path:
    """Append the dated section, keeping what is there (the header is written once)."""
    history.parent.mkdir(parents=True, exist_ok=True)
    existing = history.read_text(encoding="utf-8") if history.exists() else HISTORY_HEADER
    history.write_text(existing.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n",
                       encoding="utf-8")
    return history


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def update_summary(text: str, rows: list[tuple[str, str, str]], *, when: datetime,
                   commit: str, machine: str) -> str:
    """`text` (docs/benchmarks.md) with each target of `rows` (target, measured, verdict) set
    to this run's figure: the row of the same target replaced, a new target added at the end;
    the targets this run did not measure keep their latest figure."""
    try:
        head, rest = text.split(SUMMARY_BEGIN, 1)
        table, tail = rest.split(SUMMARY_END, 1)
    except ValueError:
        raise ValueError(f"no current-figures table ({SUMMARY_BEGIN} … {SUMMARY_END})") from None
    lines = [ln for ln in table.strip().splitlines() if ln.startswith("|")][2:]
    key = re.compile(r"^\|\s*(.*?)\s*\|")
    order: list[str] = []
    by_target: dict[str, str] = {}
    for ln in lines:
        m = key.match(ln)
        if m:
            order.append(m.group(1))
            by_target[m.group(1)] = ln
    run = when.strftime("%Y-%m-%d %H:%M")
    for target, measured, verdict in rows:
        target = _cell(target)
        if target not in by_target:
            order.append(target)
        by_target[target] = (f"| {target} | {_cell(measured)} | {_cell(verdict)} | {run} | "
                             f"{_cell(commit)} | {_cell(machine)} |")
    body = "\n".join([SUMMARY_HEAD, *(by_target[t] for t in order)])
    return f"{head}{SUMMARY_BEGIN}\n{body}\n{SUMMARY_END}{tail}"


def record(section: str, rows: list[tuple[str, str, str]], info: dict[str, str], *,
           when: datetime, doc: Path = DOC, history: Path = HISTORY) -> tuple[Path, Path]:
    """Write a run down: its section at the end of the history, its targets' figures into
    the current-figures table of the doc."""
    commit = f"`{info.get('commit', '?')}`" + (
        " (uncommitted changes)" if info.get("uncommitted") else "")
    text = doc.read_text(encoding="utf-8")
    updated = update_summary(text, rows, when=when, commit=commit, machine=machine_label(info))
    append_to_history(section, history)
    if updated != text:
        doc.write_text(updated, encoding="utf-8")
    return doc, history
