"""CPU seconds used by process groups and by the whole machine, read from /proc (Linux)."""

from __future__ import annotations

import os
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def group_cpu_s(pgids: set[int]) -> dict[int, float]:
    """User+system CPU seconds of the live processes in each process group."""
    out = dict.fromkeys(pgids, 0.0)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2:].split()
        pgrp = int(fields[2])
        if pgrp in out:
            out[pgrp] += (int(fields[11]) + int(fields[12])) / _TICK
    return out


def backends_cpu_s(dbname: str) -> float:
    """User+system CPU seconds of the live PostgreSQL backends connected to `dbname`."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            cmd = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                errors="replace")
            if not cmd.startswith("postgres:") or f" {dbname} " not in f"{cmd} ":
                continue
            raw = stat.read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2:].split()
        total += (int(fields[11]) + int(fields[12])) / _TICK
    return total


def machine_busy_s() -> tuple[float, float]:
    """(busy, total) CPU seconds of the machine since boot, all cores together."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])
    return (total - idle) / _TICK, total / _TICK


# --- load from processes that are not the benchmark's -----------------------------------------
# The machine may be shared (other checkouts, test runs, other databases on the same cluster).
# Others' load = the machine's busy CPU minus ours, where ours is sampled 4 times a second: our
# process groups (servers, wrk, pgbench), this process, our database's PostgreSQL backends,
# PostgreSQL's shared helpers and kernel threads (network and fsync work, mostly ours). Sampling
# (rather than two snapshots) keeps the CPU of our children that exit before the end (wrk,
# pgbench and its backends); others' short-lived processes still count, through the total.

_PG_SHARED = ("checkpointer", "background writer", "walwriter", "autovacuum launcher",
              "logical replication launcher", "logger", "stats collector", "archiver")


def _own_cpu(own_pgids: set[int], own_db: str) -> dict[int, tuple[float, bool]]:
    """{pid: (CPU seconds, is a child of this process)} of every live process that is ours."""
    out = {}
    me = os.getpid()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
            fields = raw[raw.rindex(")") + 2:].split()
            pgrp = int(fields[2])
            mine = pgrp in own_pgids
            if not mine:
                cmd = (stat.parent / "cmdline").read_bytes()
                text = cmd.replace(b"\0", b" ").decode(errors="replace").strip()
                mine = not text or (text.startswith("postgres:") and (
                    f" {own_db} " in f"{text} " or any(x in text for x in _PG_SHARED)))
        except (OSError, ValueError):
            continue
        if mine:
            out[int(stat.parent.name)] = ((int(fields[11]) + int(fields[12])) / _TICK,
                                          int(fields[1]) == me)
    return out


def _children_cpu_s() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


class Background:
    """Measures how many cores other processes keep busy while we measure ours."""

    def __init__(self, own_db: str) -> None:
        self.own_db = own_db
        self.own_pgids: set[int] = {os.getpgrp()}

    def add(self, pgid: int) -> None:
        self.own_pgids.add(pgid)

    def start(self) -> _Watch:
        w = _Watch(self)
        w.begin()
        return w

    def cores(self, watch: _Watch) -> float:
        """Mean number of cores other processes kept busy since `watch` started (and stop it)."""
        return watch.end()

    def wait_quiet(self, *, below: float = 0.2, max_wait_s: float = 30.0, say=None) -> float:
        """Wait (up to max_wait_s) until others use less than `below` cores over a second;
        returns the last reading."""
        import time

        deadline = time.monotonic() + max_wait_s
        told = False
        while True:
            w = self.start()
            time.sleep(1.0)
            load = self.cores(w)
            if load < below or time.monotonic() > deadline:
                return load
            if say and not told:
                say(f"    (other processes keep {load:.1f} cores busy; waiting up to "
                    f"{max_wait_s:.0f} s for quiet)")
                told = True


class _Watch:
    """Samples our processes' CPU four times a second in a thread until end()."""

    def __init__(self, bg: Background) -> None:
        import threading

        self.bg = bg
        self.inc: dict[int, float] = {}  # CPU seconds each of our processes used meanwhile
        self.child: dict[int, bool] = {}
        self.last: dict[int, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self, first: bool = False) -> dict:
        now = _own_cpu(self.bg.own_pgids, self.bg.own_db)
        for pid, (cpu, is_child) in now.items():
            base = cpu if first else self.last.get(pid, 0.0)
            self.inc[pid] = self.inc.get(pid, 0.0) + max(0.0, cpu - base)
            self.child[pid] = is_child
        self.last = {pid: cpu for pid, (cpu, _) in now.items()}
        return now

    def begin(self) -> None:
        import time

        self._sample(first=True)
        self.t0 = time.monotonic()
        self.busy0 = machine_busy_s()[0]
        self.children0 = _children_cpu_s()
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(0.25):
            self._sample()

    def end(self) -> float:
        import time

        self.stop.set()
        self.thread.join()
        alive = self._sample()
        secs = max(1e-3, time.monotonic() - self.t0)
        busy = machine_busy_s()[0] - self.busy0
        # our children that ended (wrk, pgbench) count in full through the kernel's tally,
        # not through the samples that missed their last moments
        own = sum(v for pid, v in self.inc.items() if pid in alive or not self.child[pid])
        own += _children_cpu_s() - self.children0
        return max(0.0, busy - own) / secs
