"""How supervisord starts each program of the stack (deploy/supervisord.conf.tmpl):

    python -m gridsnap.launch --state DIR --name nginx [--port HOST:PORT] -- nginx -p …

before exec'ing the program, in the process supervisord forked (its own process group):

1. the parent-death signal: the program gets SIGTERM when supervisord dies, even by kill -9, so
   no process of the stack outlives its supervisor (the signal survives exec);
2. what the predecessor left is cleared: a program killed with -9 can leave children behind (the
   nginx master its workers, the gunicorn master its workers) holding the port with the old
   configuration. Its process group is recorded in DIR; what is left of that group, in this
   supervisord's session, gets TERM, a grace, then KILL;
3. with --port, a short wait for the port to be free (a socket in TIME_WAIT, an ending worker),
   so that the program's own bind does not fail;
4. a back-off: a program that keeps dying within QUICK_S of its start waits 1 s, 2 s, 4 s, …
   up to MAX_DELAY_S before starting again, and says so, instead of crash-looping.

Stdlib only, so that it adds little to a restart.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
from pathlib import Path

from .procs import die_with_parent, end, group_members

QUICK_S = 10.0  # a life shorter than this is a crash loop's
MAX_DELAY_S = 30.0


def _say(name: str, message: str) -> None:
    print(f"gridsnap.launch {name}: {message}", file=sys.stderr, flush=True)


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def delay_after(previous: dict, now: float) -> tuple[float, int]:
    """(seconds to wait, quick deaths in a row) given the previous start's record."""
    started = previous.get("started")
    if not isinstance(started, (int, float)) or now - started >= QUICK_S:
        return 0.0, 0
    quick = int(previous.get("quick", 0)) + 1
    return min(2.0 ** (quick - 1), MAX_DELAY_S), quick


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as nginx and gunicorn bind
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def split_listen(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return (host.strip("[]") or "0.0.0.0"), int(port)


def prepare(name: str, state_dir: Path, *, listen: str | None = None,
            grace_s: float = 3.0, port_wait_s: float = 10.0) -> None:
    """Steps 1–4 above, in this process; returns when the program may be exec'd."""
    parent = os.getppid()
    if not die_with_parent(parent=parent):
        _say(name, "the supervisor is gone already; not starting")
        sys.exit(1)
    state_dir.mkdir(parents=True, exist_ok=True)
    record = state_dir / f"{name}.json"
    previous = _read(record)
    now = time.time()
    delay, quick = delay_after(previous, now)
    me, sid = os.getpgid(0), os.getsid(0)
    old = previous.get("pgid")
    if isinstance(old, int) and old != me:
        left = group_members(old, sid)
        if left:
            termed, killed = end(left, grace_s)
            _say(name, f"cleared what its predecessor left: {termed + killed} process(es) "
                       f"(pids {', '.join(map(str, left))}; {killed} needed KILL)")
    if delay:
        _say(name, f"died {quick} time(s) in a row within {QUICK_S:.0f} s of starting; "
                   f"waiting {delay:.0f} s before starting again")
        time.sleep(delay)
    if listen:
        host, port = split_listen(listen)
        deadline = time.monotonic() + port_wait_s
        while not port_free(host, port) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not port_free(host, port):
            _say(name, f"{listen} is still taken by another program; starting anyway")
    record.write_text(json.dumps({"pgid": me, "pid": os.getpid(), "started": time.time(),
                                  "quick": quick}))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gridsnap.launch")
    parser.add_argument("--state", required=True, type=Path, help="where starts are recorded")
    parser.add_argument("--name", required=True, help="the program (one record per name)")
    parser.add_argument("--port", help="HOST:PORT the program binds: wait until it is free")
    parser.add_argument("--grace", type=float, default=3.0,
                        help="seconds the predecessor's leftovers get between TERM and KILL")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command after --")
    prepare(args.name, args.state, listen=args.port, grace_s=args.grace)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
