"""Every event name is its owner's (events/rules.py): backend code imports the constant, never
types the name again — as an SQL literal ('case.resolved') or a Python string. (Notification
kinds and outbox topics that are spelt like an event are their own owners' vocabulary.)"""

from __future__ import annotations

import re
from pathlib import Path

from gridsnap.events import rules as ev

BACKEND = Path(__file__).resolve().parents[1] / "backend" / "gridsnap"
EVENT_NAMES = {v for k, v in vars(ev).items() if k.isupper() and isinstance(v, str)
               and re.fullmatch(r"(case|report|photo|caller|dispute|patrol)\.[a-z_]+", v)}
OWNERS = {"events/rules.py", "notifications/rules.py", "outbox/rules.py"}
QUOTED = re.compile(r"""['"]((?:case|report|photo|caller)\.[a-z_]+)['"]""")


def test_the_event_names_are_known():
    assert {"case.resolved", "report.routed", "caller.viewed"} <= EVENT_NAMES


def test_no_event_name_is_typed_outside_its_owner():
    typed = []
    for path in BACKEND.rglob("*.py"):
        rel = path.relative_to(BACKEND).as_posix()
        if rel in OWNERS or rel.startswith("migrations/"):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            typed += [f"{rel}:{n}: {m}" for m in QUOTED.findall(line) if m in EVENT_NAMES]
    assert typed == [], "import the constant from events.rules:\n" + "\n".join(typed)
