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


def machine_busy_s() -> tuple[float, float]:
    """(busy, total) CPU seconds of the machine since boot, all cores together."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])
    return (total - idle) / _TICK, total / _TICK
