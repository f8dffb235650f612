"""The project-local services as a newcomer starts them: PostgreSQL's tools run as the postgres
user (when we are root) from a folder that user can enter, so a checkout in a mode-700 home
gives no "could not change directory … Permission denied" at every start and stop."""

from __future__ import annotations

import uuid

from gridsnap.devservices import LocalPostgres, pg_bindir


def test_postgres_tools_say_nothing_about_a_working_directory_they_cannot_enter(
        tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    home.chmod(0o700)  # as root's home: no one else may enter
    monkeypatch.chdir(home)
    pg = LocalPostgres(port=1, root=tmp_path / "pg")
    missing = f"/nonexistent/gridsnap-{uuid.uuid4().hex}"  # a path anyone may look for
    run = pg.run_as_owner([str(pg_bindir() / "pg_ctl"), "-D", str(missing), "status"],
                          capture_output=True, text=True)
    assert run.returncode == 4  # pg_ctl's "no such data directory": it did run
    assert "could not change directory" not in run.stderr, run.stderr
    assert f'directory "{missing}" does not exist' in run.stderr
