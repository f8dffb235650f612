"""docs/reliability.md from the fault drills: runs tests/test_fault_drills.py and
tests/test_lifecycle_drills.py with GRIDSNAP_RELIABILITY_OUT set and writes the table of their
figures (`make reliability`)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "reliability.md"
COLUMNS = [("drill", "drill"), ("sent", "reports sent"), ("acknowledged", "acknowledged"),
           ("stored", "stored"), ("photos_acknowledged", "photos acknowledged"),
           ("photos_stored", "photos stored"), ("followup_done", "follow-up done"),
           ("lost", "lost"), ("5xx_other_than_503", "5xx other than 503"),
           ("503", "503 answers"), ("service_back_s", "serving again (s)"),
           ("recovery_s", "back to healthy, all done (s)"), ("stopped_s", "all stopped (s)")]
DRILLS = ["tests/test_fault_drills.py", "tests/test_lifecycle_drills.py",
          "tests/test_two_nodes.py"]


def main() -> int:
    with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as f:
        out = Path(f.name)
    env = {**os.environ, "GRIDSNAP_RELIABILITY_OUT": str(out)}
    started = time.monotonic()
    code = subprocess.call([sys.executable, "-m", "pytest", *DRILLS, "-q", *sys.argv[1:]],
                           cwd=REPO, env=env)
    rows = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    out.unlink()
    write_doc(rows, scale=os.environ.get("DRILL_SCALE", "1"),
              minutes=(time.monotonic() - started) / 60, passed=code == 0)
    return code


def _commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True,
                              text=True).stdout.strip()

    head = git("rev-parse", "--short=10", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", ".",
                ":(exclude)docs/reliability.md")  # this file, written by the last run
    return head + (" with local changes" if dirty else "")


def _machine() -> str:
    cpu = next((line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown CPU")
    return f"{os.cpu_count()} CPUs ({cpu}), Linux {platform.release()}"


def _conclusion(rows: list[dict], passed: bool) -> list[str]:
    lost = sum(r["lost"] for r in rows)
    other_5xx = sum(r["5xx_other_than_503"] for r in rows)
    back = {r["drill"]: r["service_back_s"] for r in rows
            if isinstance(r.get("service_back_s"), (int, float))}
    if lost or other_5xx or not passed:
        return [f"**Not clean: {lost} acknowledged report(s) or photo(s) lost, {other_5xx} 5xx "
                f"answer(s) other than 503, drills {'passed' if passed else 'FAILED'} "
                "(see the test output).**"]
    return ["No acknowledged report or photo was lost or stored twice in any drill, and clients",
            "saw no 500 and no HTML page: only 2xx, and 503 with `Retry-After` while PostgreSQL",
            "restarted. The worker drill's recovery is the sweep's pace (every 15 s, for",
            "messages in flight 20 s or more). In the slow-uploads drill more tus uploads than",
            "the API has workers were held open at a byte a second (nginx buffers each `PATCH`)",
            "while every report was acknowledged; each then ended 204, and a chunk cut half-way",
            "resumed from the last whole chunk.",
            "",
            "Serving again: from the kill -9 until the stack answers `/api/v1/health` with 200",
            "through nginx, with every process the killed one left ended (" + "; ".join(
                f"{name}: {s} s" for name, s in back.items()) + "). Each killed program was",
            "started again once, not in a loop; no process exited during the long Redis outage.",
            "After TERM then KILL of `gridsnap run`, serving again is the next `gridsnap run`'s",
            "start (services, migrations, supervisord) until it serves.",
            "All stopped: from the signal until no process of the stack, PostgreSQL or Redis is",
            "left (after a KILL of `gridsnap run`: until its stack ended by itself; the next run",
            "stopped PostgreSQL and Redis)."]


def write_doc(rows: list[dict], *, scale: str = "1", minutes: float | None = None,
              passed: bool = True) -> None:
    """docs/reliability.md with one row per drill, the scale, date and machine stated."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    took = f", {minutes:.1f} minutes for all drills" if minutes is not None else ""
    lines = [
        "# Reliability: the fault drills",
        "",
        "Written by `make reliability` (tests/test_fault_drills.py and",
        "tests/test_lifecycle_drills.py with their figures recorded; the same drills run in",
        "`make test` at scale 1). The whole stack as `make run` has it — nginx, gunicorn (2 sync",
        "workers), 2 RQ workers and the relay under supervisord; for the lifecycle drills",
        "`gridsnap run` itself, which keeps supervisord — on a PostgreSQL and a Redis of the",
        "drills' own, on loopback. Clients retry on 503 and on",
        "dropped connections as the PWA does. `make test` runs scaled-down counts to stay short;",
        "`make reliability DRILL_SCALE=n` multiplies them (DRILL_SCALE=16.7 sends the issue's",
        "1,000 reports with a photo each through the lossy proxy).",
        "Recovery: from the end of the fault (the process restarted, the service started again)",
        "until health is ok and every report is routed and every photo processed — so it",
        "includes working off the follow-up the drill piled up, and grows with the scale.",
        "",
        "The long Redis outage lasts until each worker and the relay retried 3 + DRILL_SCALE",
        "times (at most 8); each other new drill kills once, with DRILL_SCALE times the clients.",
        "",
        f"This run: **DRILL_SCALE={scale}**, {when}, commit {_commit()}, {_machine()}{took}.",
        "",
        "| " + " | ".join(title for _, title in COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    lines += ["| " + " | ".join(str(r.get(key, "—")) for key, _ in COLUMNS) + " |" for r in rows]
    lines += ["", *_conclusion(rows, passed)]
    # the restore drill's section (`make restore-drill`, bench/restore_drill.py) stays
    kept = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    begin, end = "<!-- restore-drill:begin -->", "<!-- restore-drill:end -->"
    if begin in kept and end in kept:
        lines += ["", kept[kept.index(begin):kept.index(end) + len(end)]]
    DOC.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {DOC.relative_to(REPO)} ({len(rows)} drills)")


if __name__ == "__main__":
    sys.exit(main())
