"""The `gridsnap` command: services, database, grid import, users, and the processes to serve."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

import click

from .categories.service import load_categories, load_departments
from .demo import demo_loaded, load_demo
from .devservices import ServiceError, down, up
from .extensions import Runtime
from .grid.service import import_grid
from .migrate import revision, upgrade
from .outbox import queries as outbox_queries
from .settings import REPO_ROOT, Settings
from .users.service import (
    add_user,
    announce_revocation,
    disable_user,
    revoke_all_tokens,
    set_scopes,
)
from .worker import build_followup, run_relay, run_worker


@contextmanager
def _session():
    rt = Runtime(Settings.from_env())
    try:
        with rt.sessions() as session:
            yield session
    finally:
        rt.dispose()


def _announce_revocation() -> None:
    """Tell every API process that tokens were revoked (their token caches end at once)."""
    rt = Runtime(Settings.from_env())
    try:
        announce_revocation(rt.redis)
    finally:
        rt.dispose()


def _fail(message: str) -> None:
    click.echo(f"gridsnap: {message}", err=True)
    sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """gridsnap: grid management (网格化管理) for a city."""


# --- services ------------------------------------------------------------------------------

@main.group()
def services() -> None:
    """The project-local PostgreSQL+PostGIS and Redis under .var/."""


@services.command("up")
def services_up() -> None:
    """Start them if they are not running."""

    try:
        started = up()
    except ServiceError as exc:
        _fail(str(exc))
    click.echo(f"services up (started now: postgres={started.postgres}, redis={started.redis})")


@services.command("down")
def services_down() -> None:
    """Stop them (the data stays in .var/)."""

    down()
    click.echo("services stopped")


@services.command("run", context_settings={"ignore_unknown_options": True})
@click.argument("command", nargs=-1, type=click.UNPROCESSED, required=True)
def services_run(command) -> None:
    """Run COMMAND with the services up; stop afterwards those this call started."""

    try:
        started = up()
    except ServiceError as exc:
        _fail(str(exc))
    try:
        code = subprocess.call(list(command))
    finally:
        down(started)
    sys.exit(code)


# --- database ------------------------------------------------------------------------------

@main.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@click.option("--revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply the Alembic migrations."""

    upgrade(Settings.from_env().database_url, revision)
    click.echo(f"database at {revision}")


@db.command("revision")
@click.argument("message")
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models (read the diff before committing it)."""

    revision(message, Settings.from_env().database_url)


# --- grid and catalogue --------------------------------------------------------------------

@main.command("import-grid")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Only validate and report.")
def import_grid_cmd(file: str, dry_run: bool) -> None:
    """Import areas from a GeoJSON FeatureCollection (code, name, name_en; Polygon/MultiPolygon).

    Everything is validated first; any problem rejects the whole file.
    """

    with _session() as session:
        result = import_grid(session, file, dry_run=dry_run, progress=sys.stderr.isatty())
    if not result.ok:
        for p in result.problems:
            click.echo(f"  {p.code or '-'}: {p.message}", err=True)
        _fail(f"{len(result.problems)} problem(s) in {file}; nothing was imported")
    levels = ", ".join(f"{n} {lvl}" for lvl, n in sorted(result.levels.items()))
    if dry_run:
        click.echo(f"{file} is valid: {levels} "
                   f"({result.created_ancestors} ancestors would be created)")
    else:
        click.echo(f"imported {result.written} areas ({levels}); "
                   f"{result.created_ancestors} ancestors created from their children")


@main.command("load-catalogue")
@click.option("--departments", type=click.Path(exists=True, dir_okay=False))
@click.option("--categories", type=click.Path(exists=True, dir_okay=False))
def load_catalogue(departments, categories) -> None:
    """Load departments and categories from JSON files (upsert by code)."""

    with _session() as session:
        if departments:
            click.echo(f"{load_departments(session, departments)} departments")
        if categories:
            try:
                click.echo(f"{load_categories(session, categories)} categories")
            except ValueError as exc:
                _fail(str(exc))
        session.commit()


@main.command("load-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing if the demo city is loaded already.")
def load_demo_cmd(if_empty: bool) -> None:
    """Load the demo city (Dongcheng district, Beijing) and print the demo users."""

    with _session() as session:
        if if_empty and demo_loaded(session):
            users = None
        else:
            users = load_demo(session, progress=sys.stderr.isatty())
    _print_demo_users(users)


def _print_demo_users(users) -> None:
    if users is None:
        path = REPO_ROOT / "fixtures" / "users.json"
        users = {u["username"]: u for u in json.loads(path.read_text(encoding="utf-8"))}
    click.echo("demo users (change these passwords on a real deployment):")
    for name, u in users.items():
        click.echo(f"  {u['role']:<10} {name:<14} password: {u['password']:<18} "
                   f"({u['display_name']})")


# --- users ---------------------------------------------------------------------------------

@main.group()
def user() -> None:
    """Users, roles and scopes."""


@user.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["worker", "supervisor", "handler",
                                                          "admin"]))
@click.option("--scope", "scopes", multiple=True,
              help="Area code prefix (repeatable); '' is the whole city.")
@click.option("--department", help="Department code (handlers).")
@click.option("--display-name", default="")
@click.password_option("--password", help="At least 8 characters; prompted if not given.")
def user_add(username, role, scopes, department, display_name, password) -> None:
    """Add a user."""

    with _session() as session:
        try:
            u = add_user(session, username=username, display_name=display_name, role=role,
                         password=password, scopes=list(scopes), department_code=department)
        except ValueError as exc:
            _fail(str(exc))
    click.echo(f"added {u.role} {u.username} (id {u.id}) with scopes {list(u.scopes)}")


@user.command("scope")
@click.argument("username")
@click.argument("prefixes", nargs=-1)
def user_scope(username, prefixes) -> None:
    """Replace a user's scopes with PREFIXES."""

    with _session() as session:
        try:
            u = set_scopes(session, username, list(prefixes))
        except (ValueError, LookupError) as exc:
            _fail(str(exc))
    _announce_revocation()
    click.echo(f"{u.username} now sees {list(u.scopes)}")


@user.command("disable")
@click.argument("username")
def user_disable(username) -> None:
    """Disable a user and revoke their tokens."""

    with _session() as session:
        try:
            disable_user(session, username)
        except LookupError as exc:
            _fail(str(exc))
    _announce_revocation()
    click.echo(f"{username} disabled; their tokens are revoked")


@main.command("revoke-tokens")
@click.argument("username")
def revoke_tokens(username) -> None:
    """Revoke every token of a user (a lost phone)."""

    with _session() as session:
        try:
            n = revoke_all_tokens(session, username)
        except LookupError as exc:
            _fail(str(exc))
    _announce_revocation()
    click.echo(f"revoked {n} token(s) of {username}")


# --- outbox --------------------------------------------------------------------------------

@main.group()
def outbox() -> None:
    """The follow-up queue as the database sees it."""


@outbox.command("status")
def outbox_status() -> None:
    """Pending, in flight, failed and done messages per topic, and the latest failures."""

    with _session() as session:
        rows = outbox_queries.backlog(session)
        failed = outbox_queries.failed_messages(session, 10)
    click.echo(f"{'topic':<20} {'pending':>8} {'scheduled':>10} {'in flight':>10} "
               f"{'failed':>7} {'done':>8}")
    for r in rows:
        click.echo(f"{r['topic']:<20} {r['pending']:>8} {r['scheduled']:>10} "
                   f"{r['in_flight']:>10} {r['failed']:>7} {r['done']:>8}")
    for f in failed:
        click.echo(f"failed #{f['id']} {f['topic']} {f['payload']}: {f['last_error']}")


@outbox.command("retry-failed")
def outbox_retry_failed() -> None:
    """Send the messages that failed for good once more (after fixing the cause)."""

    with _session() as session:
        n = outbox_queries.retry_failed(session)
        session.commit()
    click.echo(f"{n} message(s) will be sent again")


# --- processes -----------------------------------------------------------------------------

@main.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker_cmd(burst: bool) -> None:
    """Run an RQ worker (non-forking, with the scheduler for retries)."""

    run_worker(build_followup(Runtime(Settings.from_env())), burst=burst)


@main.command("relay")
def relay_cmd() -> None:
    """Relay outbox messages to RQ (and re-send what Redis lost)."""


    logging.basicConfig(level=logging.INFO, format="%(asctime)s relay %(message)s")
    run_relay(Runtime(Settings.from_env()))


def _gunicorn_args(port: int, workers: int) -> list[str]:
    host = os.environ.get("HOST", "127.0.0.1")
    return [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"{host}:{port}",
            "--access-logfile", "-" if os.environ.get("GRIDSNAP_ACCESS_LOG") else "/dev/null",
            "--timeout", "60", "--no-control-socket", "gridsnap.wsgi:app"]


@main.command("serve")
@click.option("--port", type=int, default=lambda: int(os.environ.get("PORT", "8000")))
@click.option("--workers", type=int,
              default=lambda: int(os.environ.get("WEB_CONCURRENCY", str(2 * (os.cpu_count() or 1)))))
def serve_cmd(port: int, workers: int) -> None:
    """Serve the API with gunicorn (sync workers)."""
    os.execv(sys.executable, _gunicorn_args(port, workers))


@main.command("run")
@click.option("--port", type=int, default=lambda: int(os.environ.get("PORT", "8000")))
@click.option("--rq-workers", type=int, default=2)
def run_cmd(port: int, rq_workers: int) -> None:
    """Everything `make run` does: services, migrations, demo city, API, workers, relay.

    Ctrl-C stops what this started; the data stays in .var/.
    """

    try:
        started = up()
    except ServiceError as exc:
        _fail(str(exc))
    procs: list[subprocess.Popen] = []

    def _interrupt(*_):
        raise KeyboardInterrupt

    # explicit, so that Ctrl-C and `kill` work even where SIGINT came in ignored (a `&` job)
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        settings = Settings.from_env()
        upgrade(settings.database_url)
        with _session() as session:
            users = None if demo_loaded(session) else load_demo(session)
        _print_demo_users(users)
        workers = int(os.environ.get("WEB_CONCURRENCY", str(2 * (os.cpu_count() or 1))))
        gridsnap = [sys.executable, "-m", "gridsnap.cli"]
        procs.append(subprocess.Popen(_gunicorn_args(port, workers)))
        for _ in range(rq_workers):
            procs.append(subprocess.Popen([*gridsnap, "worker"]))
        procs.append(subprocess.Popen([*gridsnap, "relay"]))
        click.echo(f"\ngridsnap serves at http://{os.environ.get('HOST', '127.0.0.1')}:{port}/ "
                   f"(API docs: /api/v1/docs). Ctrl-C stops.\n")
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        dead = [p.args for p in procs if p.poll() is not None]
        click.echo(f"gridsnap: a process ended unexpectedly: {dead}", err=True)
    except KeyboardInterrupt:
        click.echo("\nstopping…")
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        down(started)


if __name__ == "__main__":
    main()
