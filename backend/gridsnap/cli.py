"""The `gridsnap` command: services, database, grid import, users, and the processes to serve."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import click
import dotenv

from . import clock, transaction
from . import models as _models  # noqa: F401 (every table known to the sessions)
from .cases import sweeps as case_sweeps
from .catalogue import service as catalogue_service
from .categories.service import load_categories, load_departments
from .deadlines import service as deadline_service
from .deadlines.rules import HolidaysFileError, WorkCalendar
from .demo import demo_loaded, load_demo
from .devservices import ServiceError, Started, down, up
from .errors import AppError
from .extensions import Runtime
from .grid.service import import_grid
from .health import service as health_service
from .hotline.service import rehash_callers
from .launch import port_free, split_listen
from .maps.rules import basemap_origins
from .migrate import revision, upgrade
from .open311 import service as open311_service
from .outbox import service as outbox_service
from .settings import REPO_ROOT, Settings, var_dir
from .stats.service import import_populations
from .supervise import Keeper, Stack, StackError, free_port, nginx_site, systemd_units
from .tables import ImportRejected
from .users.service import (
    add_user,
    announce_revocation,
    disable_user,
    require_known_areas,
    revoke_all_tokens,
    set_scopes,
    working_passwords,
)
from .worker import build_followup, run_relay, run_worker


@contextmanager
def _session():
    """The command's session and its one transaction: committed when the command's block
    ends, rolled back if it fails (_fail included)."""
    rt = Runtime(Settings.from_env())
    try:
        with rt.sessions() as session, transaction.unit(session, "command"):
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


# the served stack's settings file (the systemd units' EnvironmentFile, `gridsnap deploy
# systemd --env-file`): every command reads it too, so `gridsnap deadlines status` run from a
# shell knows what the server knows (GRIDSNAP_HOLIDAYS_FILE, the time limits, ...)
DEFAULT_ENV_FILE = "/etc/gridsnap/env"


def load_env_file() -> str | None:
    """Read GRIDSNAP_ENV_FILE (default /etc/gridsnap/env) into the environment when it
    exists, without overriding what the shell set; the path read, or None."""
    path = os.environ.get("GRIDSNAP_ENV_FILE", DEFAULT_ENV_FILE)
    if not path or not os.path.isfile(path):
        return None
    dotenv.load_dotenv(path, override=False)
    return path


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """gridsnap: grid management (网格化管理) for a city. Reads the served stack's settings
    file (GRIDSNAP_ENV_FILE, default /etc/gridsnap/env) when there is one; the shell's own
    variables win."""
    load_env_file()


# --- services ------------------------------------------------------------------------------

@main.group()
def services() -> None:
    """The project-local PostgreSQL+PostGIS, Redis (and S3 server, when asked) under .var/."""


@services.command("up")
def services_up() -> None:
    """Start them if they are not running."""

    try:
        started = up()
    except ServiceError as exc:
        _fail(str(exc))
    click.echo(f"services up (started now: postgres={started.postgres}, redis={started.redis}, "
               f"s3={started.s3})")


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
        started = up(owner=True)
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
                   f"({result.created_ancestors} ancestors would be created, "
                   f"{result.recomputed_ancestors} recomputed)")
    else:
        click.echo(f"imported {result.written} areas ({levels}); "
                   f"{result.created_ancestors} ancestors created from their children, "
                   f"{result.recomputed_ancestors} recomputed with them")


@main.command("import-populations")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--source", help="Where the figures come from, for rows without a source column "
                               "(e.g. 第七次全国人口普查).")
def import_populations_cmd(file: str, source: str | None) -> None:
    """Import the residents of each area (常住人口) from a CSV file with the columns code,
    population and optionally source: the 考评 ranking's requests per 10,000 residents.

    Every row is checked first; any problem rejects the whole file.
    """

    with _session() as session:
        result = import_populations(session, file, source=source)
        if result["problems"]:
            for p in result["problems"]:
                click.echo(f"  line {p['line'] or '-'}: {p['message']}", err=True)
            _fail(f"{len(result['problems'])} problem(s) in {file}; nothing was imported")
    click.echo(f"imported the residents of {result['written']} areas")


@main.command("keep-indicators")
@click.option("--month", "months", multiple=True, metavar="YYYY-MM",
              help="A month to keep (repeatable); default: every closed month of the last 13 "
                   "not kept yet.")
@click.option("--forget", is_flag=True,
              help="Drop the named months' kept facts instead (their tables fold the trail "
                   "again until they are kept anew).")
def keep_indicators(months: tuple[str, ...], forget: bool) -> None:
    """Keep the indicator facts of closed months (the worker does it by itself, one month
    every ten minutes): after a bulk import of history, or to start again after a correction
    of the trail."""
    from .stats.service import forget_kept_month, keep_closed_months

    settings = Settings.from_env()
    if forget:
        if not months:
            _fail("--forget needs --month")
        with _session() as session:
            for m in months:
                try:
                    gone = forget_kept_month(session, settings, m)
                except AppError as exc:
                    _fail(exc.message)
                click.echo(f"{m}: {'forgotten' if gone else 'was not kept'}")
        return
    with _session() as session:
        try:
            done = keep_closed_months(session, settings, limit=None,
                                      months=list(months) or None)
        except AppError as exc:
            _fail(exc.message)
    for d in done:
        if d["cases"] is None:  # kept before: its counts added up again under new settings
            click.echo(f"{d['period']}: added up again under the settings in force in "
                       f"{d['ms']:,} ms")
        else:
            click.echo(f"{d['period']}: kept the facts of {d['cases']:,} reports and added "
                       f"them up in {d['ms']:,} ms")
    if not done:
        click.echo("nothing to keep: every month asked for is kept already")


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


@main.group()
def catalogue() -> None:
    """The 12345 catalogue (诉求分类), the dispatch catalogue (派单目录) and address points (门牌):
    CSV or XLSX files (README, "The 12345 catalogue")."""


def _import_table(kind: str, file: str, replace: bool) -> None:
    data = Path(file).read_bytes()
    try:
        with _session() as session:
            result = catalogue_service.IMPORTERS[kind](session, data, replace=replace)
    except ImportRejected as exc:
        for e in exc.errors:
            click.echo(f"  line {e.line}, {e.field}: {e.code}: {e.message}", err=True)
        _fail(f"{len(exc.errors)} problem(s) in {file}; nothing was imported")
    click.echo(", ".join(f"{n} {what}" for what, n in result.items()))


_REPLACE = click.option("--replace", is_flag=True,
                        help="The file is the whole set: what it leaves out is retired.")


@catalogue.command("import-classes")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@_REPLACE
def catalogue_import_classes(file: str, replace: bool) -> None:
    """Import request classes: code, name, name_en, category, department, keywords, active."""
    _import_table("classes", file, replace)


@catalogue.command("import-dispatch")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@_REPLACE
def catalogue_import_dispatch(file: str, replace: bool) -> None:
    """Import the dispatch catalogue: class, area, department, note."""
    _import_table("dispatch", file, replace)


@catalogue.command("import-addresses")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@_REPLACE
def catalogue_import_addresses(file: str, replace: bool) -> None:
    """Import address points: address, address_en, lon, lat (WGS 84)."""
    _import_table("addresses", file, replace)


@catalogue.command("export")
@click.argument("which", type=click.Choice(["classes", "dispatch"]))
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
def catalogue_export(which: str, file: str) -> None:
    """Write the request catalogue or the dispatch catalogue as CSV in the import's columns
    (UTF-8 with a BOM, for spreadsheets): edit it and import it again."""
    with _session() as session:
        content, n = catalogue_service.export_csv(session, which)
    Path(file).write_text(content, encoding="utf-8-sig")
    click.echo(f"{n} rows written to {file}")


@main.group()
def callers() -> None:
    """Callers' personal data."""


@callers.command("rehash")
def callers_rehash() -> None:
    """Hash again, under the current key of GRIDSNAP_CALLER_HASH_KEYS, every caller's number
    still kept (after a new key was put first); then the old key may be dropped."""
    settings = Settings.from_env()
    with _session() as session:
        n = rehash_callers(session, settings)
    click.echo(f"{n} callers hashed under key {settings.caller_hash_keys[0][0]!r}")


@main.command("load-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing if the demo city is loaded already.")
def load_demo_cmd(if_empty: bool) -> None:
    """Load the demo city (Dongcheng district, Beijing) and print the demo users."""

    with _session() as session:
        if not (if_empty and demo_loaded(session)):
            load_demo(session, progress=sys.stderr.isatty())
        _print_demo_users(session)


def _print_demo_users(session) -> None:
    """The demo users, each with its password while that password still logs it in."""
    path = REPO_ROOT / "fixtures" / "users.json"
    users = json.loads(path.read_text(encoding="utf-8"))
    works = working_passwords(session, {u["username"]: u["password"] for u in users})
    click.echo("demo users (change these passwords on a real deployment):")
    for u in users:
        shown = (f"password: {u['password']:<18}" if works[u["username"]] else
                 f"{'(password changed)':<28}")
        # a handler works for a responsible unit (责任单位): a department in an area
        unit = (f" · {u['department']} × {', '.join(u['scopes']) or '(no area)'}"
                if u["role"] == "handler" else "")
        click.echo(f"  {u['role']:<10} {u['username']:<14} {shown} ({u['display_name']}{unit})")


# --- users ---------------------------------------------------------------------------------

@main.group()
def user() -> None:
    """Users, roles and scopes."""


@user.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["worker", "supervisor", "handler",
                                                          "admin", "call_taker"]))
@click.option("--scope", "scopes", multiple=True,
              help="Area code (repeatable): the user sees what lies in it; '' is the whole "
                   "city. It must be an area of the imported grid.")
@click.option("--department", help="Department code (handlers).")
@click.option("--display-name", default="")
@click.option("--password", help="At least 8 characters. Better not on the command line (it "
                                 "stays in the shell's history): leave it out to be asked.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input (for scripts).")
def user_add(username, role, scopes, department, display_name, password,
             password_stdin) -> None:
    """Add a user. The password is asked for (twice, not shown) at a terminal; a script gives
    it with --password-stdin, e.g. `printf '%s\\n' "$PW" | gridsnap user add …`."""

    if password is not None and password_stdin:
        _fail("give the password either with --password or with --password-stdin, not both")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            _fail("--password-stdin: standard input had no password on its first line")
    elif password is None:
        if not sys.stdin.isatty():
            _fail("no password given, and no terminal to ask for one: use --password-stdin "
                  "with the password on standard input")
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _session() as session:
        try:
            require_known_areas(session, list(scopes))
            u = add_user(session, username=username, display_name=display_name, role=role,
                         password=password, scopes=list(scopes), department_code=department)
        except AppError as exc:
            _fail(exc.message)
    click.echo(f"added {u.role} {u.username} (id {u.id}) with scopes {list(u.scopes)}")


@user.command("scope")
@click.argument("username")
@click.argument("prefixes", nargs=-1)
def user_scope(username, prefixes) -> None:
    """Replace a user's scopes with PREFIXES (area codes of the imported grid; '' is the whole
    city)."""

    with _session() as session:
        try:
            require_known_areas(session, list(prefixes))
            u = set_scopes(session, username, list(prefixes))
        except AppError as exc:
            _fail(exc.message)
    _announce_revocation()
    click.echo(f"{u.username} now sees {list(u.scopes)}")


@user.command("disable")
@click.argument("username")
def user_disable(username) -> None:
    """Disable a user and revoke their tokens."""

    with _session() as session:
        try:
            disable_user(session, username)
        except AppError as exc:
            _fail(exc.message)
    _announce_revocation()
    click.echo(f"{username} disabled; their tokens are revoked")


@main.command("revoke-tokens")
@click.argument("username")
def revoke_tokens(username) -> None:
    """Revoke every token of a user (a lost phone)."""

    with _session() as session:
        try:
            n = revoke_all_tokens(session, username)
        except AppError as exc:
            _fail(exc.message)
    _announce_revocation()
    click.echo(f"revoked {n} token(s) of {username}")


# --- Open311 clients --------------------------------------------------------------------------

@main.group()
def open311() -> None:
    """Open311 GeoReport v2 client systems and their API keys."""


@open311.command("add")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, required=True,
              help="Area code its key may read (of the imported grid; '' for the city); "
                   "repeatable.")
@click.option("--display-name", default="")
def open311_add(name, scopes, display_name) -> None:
    """Issue client NAME an API key (printed once; only its hash is stored)."""
    with _session() as session:
        try:
            require_known_areas(session, list(scopes))
            key = open311_service.issue_client(session, name, list(scopes),
                                               display_name=display_name)
        except AppError as exc:
            _fail(exc.message)
    click.echo(f"client {name}: api_key={key}")
    click.echo("Keep it: it is not shown again. Revoke with: gridsnap open311 revoke " + name)


@open311.command("revoke")
@click.argument("name")
def open311_revoke(name) -> None:
    """Revoke client NAME: its keys stop working at once."""
    with _session() as session:
        try:
            open311_service.revoke_client(session, name, None)
        except AppError as exc:
            _fail(exc.message)
    _announce_revocation()
    click.echo(f"client {name} revoked")


@open311.command("list")
def open311_list() -> None:
    """The client systems, their scopes and whether revoked."""
    with _session() as session:
        for c in open311_service.list_clients(session):
            state = "revoked" if c["revoked"] else "active"
            click.echo(f"{c['name']}\t{state}\tscopes={list(c['scopes'])}\t"
                       f"requests={c['requests']}")


# --- outbox --------------------------------------------------------------------------------

@main.group()
def outbox() -> None:
    """The follow-up queue as the database sees it."""


@outbox.command("status")
def outbox_status() -> None:
    """Pending, in flight, failed and done messages per topic, and the latest failures."""

    with _session() as session:
        rows, failed = outbox_service.status(session, failures=10)
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
        n = outbox_service.retry_failed(session)
    click.echo(f"{n} message(s) will be sent again")


# --- photos ---------------------------------------------------------------------------------

@main.group()
def photos() -> None:
    """The photo store."""


@photos.command("migrate")
@click.option("--from", "source", default="",
              help="the local store to copy (file:PATH; default GRIDSNAP_MEDIA_DIR)")
@click.option("--to", "target", default="",
              help="the bucket (s3://BUCKET/PREFIX; default GRIDSNAP_PHOTO_STORE)")
def photos_migrate(source: str, target: str) -> None:
    """Copy a local photo store into an S3 bucket, verified by checksum; run it again to
    resume or to copy what arrived meanwhile. Without downtime: first point every node at the
    bucket with GRIDSNAP_PHOTO_STORE_FALLBACK=file:OLD (new photos go to the bucket, old ones
    are still read from the folder), then migrate, then drop the fallback."""
    from .settings import store_options
    from .storage import LocalPhotoStorage, S3PhotoStorage, migrate, open_store, parse_store

    settings = Settings.from_env()
    target = target or settings.photo_store
    try:
        if not target or parse_store(target)[0] != "s3":
            _fail("name the bucket: --to s3://BUCKET/PREFIX (or set GRIDSNAP_PHOTO_STORE)")
        src = (open_store(source) if source
               else LocalPhotoStorage(settings.photo_store_fallback.removeprefix("file:")
                                      or settings.media_dir))
    except ValueError as exc:
        _fail(str(exc))
    if not isinstance(src, LocalPhotoStorage):
        _fail("--from is a local store: file:PATH")
    options = (dict(settings.photo_store_options) if target == settings.photo_store
               else dict(store_options(target)))
    dst = open_store(target, options)
    assert isinstance(dst, S3PhotoStorage)
    dst.create_bucket()
    click.echo(f"copying {src!r} into {dst!r}")

    def progress(key: str, outcome: str) -> None:
        if outcome == "failed":
            click.echo(f"  FAILED {key}: the copy does not match the source", err=True)

    counts = migrate(src, dst, on_key=progress)
    click.echo(f"{counts['copied']} copied, {counts['present']} already there, "
               f"{counts['failed']} failed")
    if counts["failed"]:
        sys.exit(1)


# --- deadlines and the holiday calendar ------------------------------------------------------

@main.group()
def deadlines() -> None:
    """Stage deadlines and the holiday calendar they are counted on."""


def _calendar_or_fail(settings: Settings):
    try:
        return deadline_service.calendar_of(settings)
    except HolidaysFileError as exc:
        _fail(f"GRIDSNAP_HOLIDAYS_FILE: {exc}")
        raise  # unreachable: _fail exits


@deadlines.command("status")
def deadlines_status() -> None:
    """Which years have official holiday data, and whether the deadlines in use need one that
    has none (what /api/v1/health and the command centre warn of)."""

    settings = Settings.from_env()
    _calendar_or_fail(settings)
    with _session() as session:
        report = health_service.calendar_coverage(session, settings, clock.now())
    for y in report["years"]:
        source = {"library": "holidays library", "file": "holidays file"}.get(
            y["source"] or "", "ESTIMATED (statutory holidays only)")
        click.echo(f"{y['year']}: {source}")
    for r in report["estimated"]:
        click.echo(f"estimated running deadlines due in {r['year']}: {r['cases']}")
    for w in report["warnings"]:
        click.echo(f"warning: {w}")
    if report["ok"]:
        click.echo("the calendar covers the deadlines in use")


@deadlines.command("check-holidays")
@click.argument("file", type=click.Path(dir_okay=False))
def deadlines_check_holidays(file: str) -> None:
    """Validate a holidays file (before pointing GRIDSNAP_HOLIDAYS_FILE at it) and list, per
    year it gives, the weekdays off and the weekend days worked."""

    try:
        data = deadline_service.load_holidays_file(file)
    except HolidaysFileError as exc:
        _fail(str(exc))
    cal = WorkCalendar(holidays=data)
    for year, notice in sorted(data.file_years.items()):
        days = [date(year, 1, 1) + timedelta(n) for n in range(366)]
        days = [d for d in days if d.year == year]
        off = [d for d in days if d.weekday() < 5 and not cal.is_working_day(d)]
        worked = [d for d in days if d.weekday() >= 5 and cal.is_working_day(d)]
        working = sum(cal.is_working_day(d) for d in days)
        click.echo(f"{year} ({notice.notice}): {working} working days")
        click.echo("  weekdays off: " + " ".join(f"{d:%m-%d}" for d in off))
        click.echo("  weekends worked: " + (" ".join(f"{d:%m-%d}" for d in worked) or "none"))


@deadlines.command("recompute")
@click.option("--dry-run", is_flag=True, help="Only print what would change.")
@click.option("--all", "every", is_flag=True,
              help="Every running deadline, not only the estimated ones (after correcting a "
                   "year that had data; applies the current limits of categories too).")
def deadlines_recompute(dry_run: bool, every: bool) -> None:
    """Count the running deadlines of open cases again on the holiday data in use, after a
    notice was added (GRIDSNAP_HOLIDAYS_FILE or a newer holidays library). Each change is on
    the case's trail (case.deadline_recomputed)."""

    settings = Settings.from_env()
    cal = _calendar_or_fail(settings)
    changed: list[dict] = []
    with _session() as session:
        # each batch in a transaction of its own (the locks go with it); a dry run writes none
        for batch in case_sweeps.recompute_deadlines(session, settings, dry_run=dry_run,
                                                      every=every):
            changed += batch
            (transaction.rollback if dry_run else transaction.commit)(session)

    def when(t):
        return t.astimezone(cal.zone).strftime("%Y-%m-%d %H:%M") if t else "-"

    for c in changed:
        note = []
        if c["old_guessed_years"] and not c["guessed_years"]:
            note.append("now official")
        elif c["guessed_years"]:
            note.append("still estimated over " + ", ".join(map(str, c["guessed_years"])))
        if c["overdue_cleared"]:
            note.append("no longer overdue")
        click.echo(f"case {c['number']} ({c['stage']}): {when(c['old_due_at'])} -> "
                   f"{when(c['due_at'])}" + (f"  [{'; '.join(note)}]" if note else ""))
    verb = "would change" if dry_run else "changed"
    click.echo(f"{len(changed)} deadline(s) {verb}{' (dry run: nothing written)' if dry_run else ''}")


# --- processes -----------------------------------------------------------------------------

def _worker_slot() -> str | None:
    """The worker's slot under a supervisor: supervisord names its processes (worker-0, …)."""
    process = os.environ.get("SUPERVISOR_PROCESS_NAME")
    return f"{socket.gethostname()}-{process}" if process else None


@main.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.option("--name", default=_worker_slot,
              help="The worker's slot, unique per machine (systemd: %H-%i); a restarted worker "
                   "of the same slot has the job its predecessor died in sent again at once.")
def worker_cmd(burst: bool, name: str | None) -> None:
    """Run an RQ worker (non-forking; retries are the outbox's own)."""

    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(message)s")
    run_worker(build_followup(Runtime(Settings.from_env())), burst=burst, name=name)


@main.command("relay")
def relay_cmd() -> None:
    """Relay outbox messages to RQ (and re-send what Redis lost)."""


    logging.basicConfig(level=logging.INFO, format="%(asctime)s relay %(message)s")
    run_relay(Runtime(Settings.from_env()))


def _gunicorn_args(port: int, workers: int) -> list[str]:
    host = os.environ.get("HOST", "127.0.0.1")
    return [sys.executable, "-m", "gunicorn", "-c", "python:gridsnap.gunicorn_conf",
            "-w", str(workers), "-b", f"{host}:{port}",
            "--access-logfile", "-" if os.environ.get("GRIDSNAP_ACCESS_LOG") else "/dev/null",
            "--timeout", "60", "--no-control-socket",
            "--worker-class", "gridsnap.serving.JsonErrorsWorker",
            "--logger-class", "gridsnap.serving.RedactingLogger", "gridsnap.wsgi:app"]


@main.command("serve")
@click.option("--port", type=int, default=lambda: int(os.environ.get("PORT", "8000")))
@click.option("--workers", type=int,
              default=lambda: _web_workers())
def serve_cmd(port: int, workers: int) -> None:
    """Serve the API with gunicorn (sync workers)."""
    os.execv(sys.executable, _gunicorn_args(port, workers))


def _web_workers() -> int:
    return int(os.environ.get("WEB_CONCURRENCY", str(2 * (os.cpu_count() or 1))))


def _stack(port: int, rq_workers: int) -> Stack:
    settings = Settings.from_env()
    return Stack(root=var_dir() / "run", listen=f"{os.environ.get('HOST', '127.0.0.1')}:{port}",
                 api_port=free_port(), web_workers=_web_workers(), rq_workers=rq_workers,
                 max_body_bytes=settings.max_body_bytes,
                 access_log=bool(os.environ.get("GRIDSNAP_ACCESS_LOG")),
                 tile_origins=_csp_origins(settings),
                 photo_store_origin=_photo_store_origin(settings))


def _csp_origins(settings: Settings) -> tuple[str, ...]:
    """The origins besides our own that the apps may load from: the base map's, and the object
    store's when photos are sent there by redirect (GRIDSNAP_PHOTO_DELIVERY=redirect)."""
    origins = tuple(basemap_origins(settings))
    if settings.photo_delivery == "redirect" and settings.photo_store:
        origins += (_photo_store_origin(settings),)
    return tuple(o for o in origins if o)


def _photo_store_origin(settings: Settings) -> str:
    """The object store's origin the front server fetches photos from ("" for local files)."""
    from .extensions import Runtime

    origin = getattr(Runtime(settings).storage, "origin", None)
    return origin() if origin else ""


def _run_lock(root: Path):
    """An exclusive lock on the checkout's stack, held while `gridsnap run` lives (the kernel
    drops it when the process ends, even by kill -9). Returns the open file, or fails naming
    the `gridsnap run` that holds it."""
    root.mkdir(parents=True, exist_ok=True)
    handle = (root / "gridsnap-run.lock").open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        _fail(f"another `gridsnap run` serves from this checkout (pid {handle.read().strip()}); "
              "stop it first (Ctrl-C there, or kill it)")
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


@main.command("run")
@click.option("--port", type=int, default=lambda: int(os.environ.get("PORT", "8000")))
@click.option("--rq-workers", type=int, default=2)
def run_cmd(port: int, rq_workers: int) -> None:
    """Everything `make run` does: services, migrations, demo city, then nginx, the API, the
    workers and the relay under supervisord.

    A process that dies is restarted (and logged); supervisord itself is started again if it
    dies (its programs die with it: none outlives it). PostgreSQL and Redis stay up whatever
    happens to the others. Ctrl-C (or SIGTERM) stops what this started, a second one at once;
    the data stays in .var/. After a kill -9 of this command, the next one clears what it left.
    """

    stack = _stack(port, rq_workers)
    lock = _run_lock(stack.root)  # noqa: F841 (held until the process ends)

    def say(message: str) -> None:
        click.echo(f"gridsnap: {message}", err=True)

    keeper = Keeper(stack, say=say)
    left = keeper.clear_leftovers()
    if left:
        say(f"ended {left} process(es) a previous `gridsnap run` left running")
    phase, stop = ["preparing"], threading.Event()

    def _signal(*_):
        if phase[0] == "preparing":
            phase[0] = "stopping"
            raise KeyboardInterrupt
        if phase[0] == "serving":
            phase[0] = "stopping"
            stop.set()
            return
        # stopping already: a second Ctrl-C, or a service manager's TERM after ours
        say("stopping already: ending every process of the stack now")
        keeper.kill_now()

    # explicit, so that Ctrl-C and `kill` work even where SIGINT came in ignored (a `&` job)
    signal.signal(signal.SIGINT, _signal)
    signal.signal(signal.SIGTERM, _signal)
    started = Started()
    try:
        up(owner=True, into=started)
        if not port_free(*split_listen(stack.listen)):
            _fail(f"{stack.listen} is taken by another program: stop it, or set PORT")
        settings = Settings.from_env()
        upgrade(settings.database_url)
        with _session() as session:
            if not demo_loaded(session):
                load_demo(session)
            _print_demo_users(session)
        # the calendar's warning once for this start (a bad holidays file stops it here); the
        # processes under supervisord learn from the environment that it was said
        warning = deadline_service.missing_years_warning(settings)
        if warning:
            click.echo(f"gridsnap: warning: {warning}", err=True)
        os.environ[deadline_service.ANNOUNCED_ENV] = "1"
        stack.write()
        keeper.start()
        click.echo(f"\ngridsnap serves at http://{stack.listen}/ (API docs: /api/v1/docs) "
                   f"through nginx; processes: gridsnap ctl status. Ctrl-C stops.\n")
        if phase[0] == "preparing":
            phase[0] = "serving"
            keeper.keep(stop)
    except KeyboardInterrupt:
        pass
    except (ServiceError, StackError) as exc:
        say(str(exc))
        sys.exit(1)
    finally:
        phase[0] = "stopping"
        click.echo("\nstopping…", err=True)
        keeper.stop()
        down(started)


@main.command("ctl", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def ctl_cmd(args) -> None:
    """supervisorctl for the processes of a running `gridsnap run` (status, restart worker:*, tail -f api)."""
    stack = Stack(root=var_dir() / "run", listen="", api_port=0, web_workers=0, rq_workers=0,
                  max_body_bytes=0)
    if not stack.conf.exists():
        _fail("no supervised stack here: start one with make run")
    os.execv(sys.executable, stack.ctl_argv(*(args or ("status",))))


@main.command("deploy-config")
@click.argument("what", type=click.Choice(["nginx", "supervisord", "systemd"]))
@click.option("--listen", default="80", help="nginx: address:port or port to listen on.")
@click.option("--upstream", default="127.0.0.1:8000",
              help="nginx: where gunicorn listens (several API nodes: a:8000,b:8000).")
@click.option("--temp-dir", default="/var/cache/nginx/gridsnap", help="nginx: temp files.")
@click.option("--state-dir", default="/var/lib/gridsnap/run", help="supervisord: its state.")
@click.option("--api-port", type=int, default=8000, help="supervisord, systemd: gunicorn's port.")
@click.option("--rq-workers", type=int, default=2)
@click.option("--prefix", default="/opt/gridsnap", help="systemd: the checkout (with its .venv).")
@click.option("--user", "unix_user", default="gridsnap", help="systemd: the user it runs as.")
@click.option("--env-file", default="/etc/gridsnap/env", help="systemd: the settings file.")
@click.option("--out", type=click.Path(file_okay=False),
              help="systemd: write the units into this folder (else print them).")
def deploy_config_cmd(what, listen, upstream, temp_dir, state_dir, api_port, rq_workers,
                      prefix, unix_user, env_file, out) -> None:
    """Print a production configuration rendered from deploy/ (nginx: a conf.d file; systemd:
    the units and nginx's drop-in, or write them into --out)."""
    settings = Settings.from_env()
    if what == "nginx":
        click.echo(nginx_site(listen=listen, upstream=upstream,
                              max_body_bytes=settings.max_body_bytes, temp_dir=temp_dir,
                              tile_origins=_csp_origins(settings),
                              photo_store_origin=_photo_store_origin(settings)))
        return
    if what == "systemd":
        units = systemd_units(prefix=prefix, user=unix_user, env_file=env_file,
                              api_port=api_port, state_dir=state_dir)
        for name, text_ in units.items():
            if out:
                path = Path(out) / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text_)
            else:
                click.echo(f"### {name}\n{text_}")
        if out:
            click.echo(f"wrote {len(units)} files into {out}: copy them to /etc/systemd/system/")
        return
    stack = Stack(root=Path(state_dir), listen=listen, api_port=api_port,
                  web_workers=_web_workers(), rq_workers=rq_workers,
                  max_body_bytes=settings.max_body_bytes, log_to_stdout=False,
                  tile_origins=_csp_origins(settings),
                  photo_store_origin=_photo_store_origin(settings))
    stack.write()
    click.echo(stack.conf.read_text())


if __name__ == "__main__":
    main()
