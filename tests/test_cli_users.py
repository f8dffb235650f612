"""The `gridsnap` commands about users as a README reader meets them: the demo passwords
printed only while they work."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from werkzeug.security import generate_password_hash

from gridsnap.cli import main as cli

from conftest import PERSONAS


@pytest.fixture
def gridsnap(settings, monkeypatch):
    """Runs `gridsnap ARGS` on the test database, standard input not a terminal."""
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)

    def run(*args, input=None):
        return CliRunner().invoke(cli, list(args), input=input)
    return run


def test_a_demo_password_is_printed_only_while_it_still_works(gridsnap, engine, database):
    worker = PERSONAS["worker"]
    out = gridsnap("load-demo", "--if-empty")
    assert out.exit_code == 0, out.output
    assert "demo-worker-1" in out.output and "demo-supervisor" in out.output

    with engine.connect() as conn:
        old_hash = conn.execute(text("SELECT password_hash FROM users WHERE username = :u"),
                                {"u": worker}).scalar_one()
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE users SET password_hash = :h WHERE username = :u"),
                         {"h": generate_password_hash("changed-pass-1"), "u": worker})
        out = gridsnap("load-demo", "--if-empty")
        assert out.exit_code == 0, out.output
        assert "demo-worker-1" not in out.output
        [line] = [ln for ln in out.output.splitlines() if worker in ln]
        assert "(password changed)" in line
        assert "demo-supervisor" in out.output  # the others still work
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE users SET password_hash = :h WHERE username = :u"),
                         {"h": old_hash, "u": worker})
