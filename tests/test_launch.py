"""gridsnap.launch, the way supervisord starts each program: it clears what its predecessor left
(the orphaned workers of a master killed with -9) and backs off on a crash loop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from gridsnap.launch import MAX_DELAY_S, QUICK_S, delay_after
from gridsnap.procs import alive, group_members

from live_stack import wait_until


def test_a_predecessors_orphans_are_ended_before_the_program_starts(tmp_path):
    # a "master" in a process group of its own (this session) with a child, then kill -9 of it:
    # the child is left holding what it holds, as nginx's and gunicorn's workers were
    master = subprocess.Popen(["sh", "-c", "sleep 600 & echo $!; wait"], process_group=0,
                              stdout=subprocess.PIPE, text=True)
    orphan = int(master.stdout.readline())
    os.kill(master.pid, signal.SIGKILL)
    master.wait()
    assert alive(orphan) and group_members(master.pid) == [orphan]
    (tmp_path / "prog.json").write_text(json.dumps({"pgid": master.pid, "started": 0}))

    done = subprocess.run([sys.executable, "-m", "gridsnap.launch", "--state", str(tmp_path),
                           "--name", "prog", "--grace", "5", "--", "true"],
                          capture_output=True, text=True, process_group=0, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "cleared what its predecessor left: 1 process(es)" in done.stderr
    wait_until(lambda: not alive(orphan), 10, "the orphan to be reaped")
    record = json.loads((tmp_path / "prog.json").read_text())
    assert record["pgid"] != master.pid and record["quick"] == 0


def test_a_program_that_keeps_dying_soon_after_starting_waits_longer_each_time():
    now = 1_000_000.0
    assert delay_after({}, now) == (0.0, 0)
    assert delay_after({"started": now - QUICK_S - 1, "quick": 5}, now) == (0.0, 0)
    delays, record = [], {"started": now - 1, "quick": 0}
    for _ in range(8):
        delay, quick = delay_after(record, now)
        delays.append(delay)
        record = {"started": now - 1, "quick": quick}
    assert delays == [1, 2, 4, 8, 16, MAX_DELAY_S, MAX_DELAY_S, MAX_DELAY_S]
