"""gunicorn's settings that are code (`-c python:gridsnap.gunicorn_conf`, used by `gridsnap
serve` and by the stack of `gridsnap run`).

post_fork: each worker gets SIGTERM when its master dies. Without it, a master killed with -9
left its workers holding the port until each noticed (up to half the timeout, 30 s), and the
next master could not bind; now they finish the request in hand and end at once.
"""

from __future__ import annotations

import os
import signal

from gridsnap.procs import die_with_parent


def post_fork(server, worker) -> None:
    if not die_with_parent(signal.SIGTERM, parent=worker.ppid):
        os._exit(0)  # the master died while this worker was being forked
