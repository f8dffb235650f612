"""The `gridsnap user` commands as a README reader meets them: the password asked for at a
terminal or read from standard input by a script (and a clear refusal with neither), scopes
that must name an area of the grid, and the demo passwords printed only while they work."""

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


def user_row(engine, username):
    with engine.connect() as conn:
        return conn.execute(text("SELECT role, scopes FROM users WHERE username = :u"),
                            {"u": username}).mappings().first()


def login_status(client, username, password) -> int:
    return client.post("/api/v1/auth/token",
                       json={"username": username, "password": password}).status_code


def test_a_script_gives_the_password_on_standard_input(gridsnap, client, engine):
    out = gridsnap("user", "add", "cli_wang", "--role", "worker", "--scope", "110101001001",
                   "--password-stdin", input="a-long-pass-1\n")
    assert out.exit_code == 0, out.output
    assert "added worker cli_wang" in out.output
    assert "a-long-pass-1" not in out.output
    assert login_status(client, "cli_wang", "a-long-pass-1") == 201


def test_without_a_terminal_or_password_stdin_it_stops_with_a_clear_message(gridsnap, engine):
    out = gridsnap("user", "add", "cli_li", "--role", "worker", "--scope", "110101001001")
    assert out.exit_code == 1
    assert out.output.strip() == ("gridsnap: no password given, and no terminal to ask for one: "
                                  "use --password-stdin with the password on standard input")
    assert "Aborted" not in out.output and "Warning" not in out.output
    assert user_row(engine, "cli_li") is None


def test_an_empty_standard_input_or_both_ways_at_once_are_refused(gridsnap, engine):
    out = gridsnap("user", "add", "cli_li", "--role", "worker", "--password-stdin", input="")
    assert out.exit_code == 1
    assert "standard input had no password" in out.output
    out = gridsnap("user", "add", "cli_li", "--role", "worker", "--password", "a-long-pass-1",
                   "--password-stdin", input="a-long-pass-1\n")
    assert out.exit_code == 1
    assert "either with --password or with --password-stdin" in out.output
    assert user_row(engine, "cli_li") is None


def test_the_help_says_the_password_is_asked_for_or_read_from_stdin(gridsnap):
    out = gridsnap("user", "add", "--help")
    assert out.exit_code == 0
    assert "The password is asked for" in out.output
    assert "--password-stdin" in out.output


def test_a_scope_that_names_no_area_is_refused(gridsnap, engine):
    out = gridsnap("user", "add", "cli_zhao", "--role", "worker", "--scope", "110101001001",
                   "--scope", "999", "--password-stdin", input="a-long-pass-1\n")
    assert out.exit_code == 1
    assert "no area has a code starting with '999'" in out.output
    assert user_row(engine, "cli_zhao") is None

    worker = PERSONAS["worker"]
    before = user_row(engine, worker)["scopes"]
    out = gridsnap("user", "scope", worker, "110101001001", "999")
    assert out.exit_code == 1
    assert "no area has a code starting with '999'" in out.output
    assert user_row(engine, worker)["scopes"] == before

    out = gridsnap("open311", "add", "cli-app", "--scope", "999")
    assert out.exit_code == 1
    assert "no area has a code starting with '999'" in out.output


def test_a_street_a_district_and_the_whole_city_are_scopes(gridsnap, engine):
    out = gridsnap("user", "add", "cli_chen", "--role", "supervisor", "--scope", "110101001",
                   "--scope", "110101006", "--password-stdin", input="a-long-pass-1\n")
    assert out.exit_code == 0, out.output
    assert user_row(engine, "cli_chen")["scopes"] == ["110101001", "110101006"]
    out = gridsnap("user", "scope", "cli_chen", "")
    assert out.exit_code == 0, out.output
    assert user_row(engine, "cli_chen")["scopes"] == [""]


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
