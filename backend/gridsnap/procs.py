"""Processes and their ends, for the supervised stack: a parent-death signal, the members of a
session or a process group, and ending them (TERM, a grace, then KILL).

Stdlib only and light to import: `gridsnap.launch` runs it before every program of the stack.
Linux: elsewhere the parent-death signal is not set and the lists are empty.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import time
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path

_PR_SET_PDEATHSIG = 1
_PROC = Path("/proc")


def die_with_parent(sig: int = signal.SIGTERM, parent: int | None = None) -> bool:
    """Ask the kernel to send `sig` to this process when its parent dies (kept across exec).
    Returns False when `parent` (the parent's pid seen before) is gone already: the signal
    would never come, and the caller should end."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(sig))
    except (OSError, AttributeError):  # not Linux
        return True
    return parent is None or os.getppid() == parent


def _pids() -> list[int]:
    try:
        return [int(p) for p in os.listdir(_PROC) if p.isdigit()]
    except OSError:
        return []


def session_members(sid: int) -> list[int]:
    """The processes of session `sid` (this process excepted)."""
    out = []
    for pid in _pids():
        try:
            if pid != os.getpid() and os.getsid(pid) == sid:
                out.append(pid)
        except OSError:  # gone meanwhile
            pass
    return out


def group_members(pgid: int, sid: int | None = None) -> list[int]:
    """The processes of process group `pgid` (in session `sid` if given; this one excepted)."""
    out = []
    for pid in _pids():
        try:
            if pid != os.getpid() and os.getpgid(pid) == pgid and (
                    sid is None or os.getsid(pid) == sid):
                out.append(pid)
        except OSError:
            pass
    return out


def alive(pid: int) -> bool:
    """Whether `pid` is a process that has not ended (a zombie counts as ended)."""
    try:
        state = (_PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def cmdline(pid: int) -> str:
    try:
        return (_PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(
            errors="replace")
    except OSError:
        return ""


def end(pids: Iterable[int], grace_s: float, sig: int = signal.SIGTERM) -> tuple[int, int]:
    """Send `sig` to `pids`, give them `grace_s` to end, then KILL the rest and wait until they
    are gone (their zombies reaped or reparented). Returns (ended on `sig`, killed)."""
    pids = [p for p in pids if alive(p)]
    for pid in pids:
        send(pid, sig)
    deadline = time.monotonic() + grace_s
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.02)
    left = [p for p in pids if alive(p)]
    for pid in left:
        send(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(alive(p) for p in left) and time.monotonic() < deadline:
        time.sleep(0.02)
    return len(pids) - len(left), len(left)


def send(pid: int, sig: int) -> None:
    """os.kill, quiet when the process is gone."""
    with suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)
