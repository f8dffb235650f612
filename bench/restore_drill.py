"""`make restore-drill`: a backup that has been restored. On a PostgreSQL cluster of the drill's
own with pgBackRest (Debian's package) archiving every WAL segment and a full base backup into
its repository in an S3 store (SeaweedFS of the drill's own, over HTTPS as pgBackRest requires;
the photos in a bucket of the same store): write reports and photos through the API, destroy the cluster (stopped at once, its folder
deleted, as a lost disk), restore the latest point from the repository, and check that every
acknowledged report and photo is back. Twice: once with the last WAL segment archived before
the loss (the planned case: nothing may be missing), once without (a sudden loss: what the
archive had not got yet is the recovery point). Figures into docs/reliability.md.

Settings: GRIDSNAP_BACKUP_RETENTION_FULL (full backups kept, 2), DRILL_REPORTS (per phase, 200),
RESTORE_DRILL_REPO (s3, or posix for a repository in a folder).
"""

from __future__ import annotations

import hashlib
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from gridsnap import clock  # noqa: E402
from gridsnap.app import create_app  # noqa: E402
from gridsnap.devservices import LocalPostgres, LocalSeaweed, pg_bindir  # noqa: E402
from gridsnap.extensions import Runtime  # noqa: E402
from gridsnap.settings import (  # noqa: E402
    LOCAL_S3_ACCESS_KEY,
    LOCAL_S3_SECRET_KEY,
    Settings,  # noqa: E402
)
from gridsnap.storage import S3PhotoStorage  # noqa: E402
from gridsnap.supervise import free_port  # noqa: E402

DOC = REPO / "docs" / "reliability.md"
BEGIN, END = "<!-- restore-drill:begin -->", "<!-- restore-drill:end -->"
STANZA = "gridsnap"


class Drill:
    def __init__(self, root: Path, retention: int, s3: LocalSeaweed | None) -> None:
        self.root = root
        self.s3 = s3
        self.pg = LocalPostgres(port=free_port(), root=root / "pg")
        self.conf = root / "pgbackrest.conf"
        self.retention = retention
        self.url = f"postgresql+psycopg://gridsnap@127.0.0.1:{self.pg.port}/gridsnap"

    def pgbackrest(self, *args: str, check: bool = True) -> str:
        out = self.pg.run_as_owner(["pgbackrest", f"--config={self.conf}", f"--stanza={STANZA}",
                                    *args], capture_output=True, text=True)
        if check and out.returncode != 0:
            raise SystemExit(f"pgbackrest {' '.join(args)} failed:\n{out.stdout}{out.stderr}")
        return out.stdout

    def set_up(self) -> None:
        self.pg.init()
        owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        for name in ("repo", "log", "lock", "spool"):
            (self.root / name).mkdir()
            if owner:
                os.chown(self.root / name, owner.pw_uid, owner.pw_gid)
        if self.s3 is not None:
            S3PhotoStorage("pgbackrest", "", self.s3_options()).create_bucket()
            repo = ("repo1-type=s3\n"
                    "repo1-s3-endpoint=127.0.0.1\n"
                    f"repo1-storage-port={self.s3.https_port}\n"
                    "repo1-s3-bucket=pgbackrest\n"
                    f"repo1-s3-key={LOCAL_S3_ACCESS_KEY}\n"
                    f"repo1-s3-key-secret={LOCAL_S3_SECRET_KEY}\n"
                    "repo1-s3-region=us-east-1\n"
                    "repo1-s3-uri-style=path\n"
                    "repo1-storage-verify-tls=n\n"  # the drill's self-signed certificate
                    "repo1-path=/gridsnap\n")
        else:
            repo = f"repo1-path={self.root / 'repo'}\n"
        self.conf.write_text(
            "[global]\n"
            + repo +
            f"repo1-retention-full={self.retention}\n"
            f"log-path={self.root / 'log'}\n"
            f"lock-path={self.root / 'lock'}\n"
            f"spool-path={self.root / 'spool'}\n"
            "start-fast=y\n"
            "compress-type=lz4\n"
            "log-level-console=warn\n"
            f"\n[{STANZA}]\n"
            f"pg1-path={self.pg.data}\n"
            f"pg1-port={self.pg.port}\n"
            f"pg1-socket-path={self.pg.sock}\n"
            "pg1-user=gridsnap\n")
        self.conf.chmod(0o644)
        with (self.pg.data / "postgresql.conf").open("a") as f:
            f.write("\n# the restore drill: every WAL segment to pgBackRest's repository\n"
                    "archive_mode = on\n"
                    f"archive_command = 'pgbackrest --config={self.conf} --stanza={STANZA} "
                    "archive-push %p'\n"
                    "archive_timeout = 60\n")
        self.pg.start()
        from gridsnap.demo import load_demo
        from gridsnap.migrate import upgrade

        upgrade(self.url)
        engine = create_engine(self.url)
        from sqlalchemy.orm import Session

        with Session(engine) as session:
            self.users = load_demo(session)
            session.commit()
        engine.dispose()
        self.pgbackrest("stanza-create")
        self.pgbackrest("check")

    def backup(self) -> float:
        started = time.monotonic()
        self.pgbackrest("backup", "--type=full")
        return time.monotonic() - started

    def destroy(self) -> None:
        """A lost disk: the server stopped at once (no checkpoint), its data folder gone."""
        self.pg.run_as_owner([str(pg_bindir() / "pg_ctl"), "-D", str(self.pg.data), "-m",
                              "immediate", "-w", "stop"], stdout=subprocess.DEVNULL)
        shutil.rmtree(self.pg.data)

    def restore(self) -> None:
        """The latest point the repository has (the end of its WAL archive), then serving."""
        self.pg.data.mkdir(mode=0o700)
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.pg.data, owner.pw_uid, owner.pw_gid)
        self.pgbackrest("restore")
        self.pg.run_as_owner([str(pg_bindir() / "pg_ctl"), "-D", str(self.pg.data), "-l",
                              str(self.pg.log), "-w", "-t", "600", "start"], check=True,
                             stdout=subprocess.DEVNULL)
        engine = create_engine(self.url)
        deadline = time.monotonic() + 600
        try:
            while time.monotonic() < deadline:
                try:
                    with engine.connect() as conn:
                        if not conn.execute(text("SELECT pg_is_in_recovery()")).scalar():
                            return
                except Exception:  # still starting
                    pass
                time.sleep(0.2)
        finally:
            engine.dispose()
        raise SystemExit("the restored cluster did not finish its recovery in 10 minutes")

    def archive_now(self) -> None:
        """The WAL segment in progress closed and archived (what a planned failover does)."""
        self.pgbackrest("check")  # switches the segment and waits until it is archived

    def s3_options(self) -> dict[str, str]:
        return {"endpoint_url": self.s3.endpoint, "access_key_id": LOCAL_S3_ACCESS_KEY,
                "secret_access_key": LOCAL_S3_SECRET_KEY}

    def settings(self, base: Settings) -> Settings:
        """The API's settings on the drill's database (and its photo bucket)."""
        if self.s3 is None:
            return replace(base, database_url=self.url)
        return replace(base, database_url=self.url, photo_store="s3://drill-photos/photos",
                       photo_store_options=tuple(self.s3_options().items()))

    def stop(self) -> None:
        self.pg.stop()


def write(drill: Drill, base: Settings, count: int, seed: int) -> tuple[list, dict]:
    """`count` reports through the API, a photo with every tenth; returns the acknowledged
    report ids and {photo id: sha256}."""
    from photo_samples import make_jpeg

    rt = Runtime(drill.settings(base))
    client = create_app(runtime=rt).test_client()
    name = next(n for n, u in drill.users.items() if u["role"] == "worker")
    r = client.post("/api/v1/auth/token", json={"username": name,
                                                "password": drill.users[name]["password"]})
    token = {"Authorization": f"Bearer {r.get_json()['token']}"}
    engine = create_engine(drill.url)
    with engine.connect() as conn:
        cell = dict(conn.execute(text("""
            SELECT ST_X(ST_PointOnSurface(a.boundary)) AS lon,
                   ST_Y(ST_PointOnSurface(a.boundary)) AS lat
              FROM areas a, users u WHERE u.username = :n AND a.level = 'cell'
               AND a.code LIKE u.scopes[1] || '%' ORDER BY a.code LIMIT 1"""),
            {"n": name}).mappings().one())
    engine.dispose()
    reports, photos = [], {}
    for i in range(count):
        rid = str(uuid.uuid4())
        captured = (clock.now() - timedelta(minutes=10)).astimezone(UTC).replace(microsecond=0)
        body = {"category": "E0101", "description": "恢复演练 restore drill",
                "location": {"lon": cell["lon"], "lat": cell["lat"], "accuracy_m": 8.5},
                "captured_at": captured.isoformat()}
        if client.put(f"/api/v1/reports/{rid}", json=body, headers=token).status_code == 201:
            reports.append(rid)
        if i % 10 == 0:
            pid, data = str(uuid.uuid4()), make_jpeg(320, 240, seed=seed + i)
            if client.put(f"/api/v1/reports/{rid}/photos/{pid}", data=data,
                          content_type="image/jpeg", headers=token).status_code == 201:
                photos[pid] = hashlib.sha256(data).hexdigest()
    rt.dispose()
    return reports, photos


def back(drill: Drill, base: Settings, reports: list, photos: dict) -> tuple[int, int]:
    """(reports missing, photos missing or not matching their bytes) after the restore."""
    engine = create_engine(drill.url)
    with engine.connect() as conn:
        have = set(conn.execute(text("SELECT id::text FROM reports")).scalars())
        rows = dict(conn.execute(text("SELECT id::text, original_key FROM photos")).all())
    engine.dispose()
    store = Runtime(drill.settings(base)).storage
    bad = 0
    for pid, digest in photos.items():
        key = rows.get(pid)
        if key is None or hashlib.sha256(store.get(key)).hexdigest() != digest:
            bad += 1
    return len(set(reports) - have), bad


def main() -> int:
    if not shutil.which("pgbackrest"):
        raise SystemExit("pgBackRest is not installed: sudo apt-get install pgbackrest")
    retention = int(os.environ.get("GRIDSNAP_BACKUP_RETENTION_FULL") or 2)
    count = int(os.environ.get("DRILL_REPORTS") or 200)
    root = Path(tempfile.mkdtemp(prefix="gridsnap-restore-"))
    root.chmod(0o711)  # the postgres user (we may be root) reaches the cluster and repository
    base = Settings.from_env(media_dir=root / "media", token_cache_seconds=0)
    clock_at = clock.now()
    s3 = None
    if (os.environ.get("RESTORE_DRILL_REPO") or "s3").strip().lower() == "s3":
        s3 = LocalSeaweed(port=free_port(), root=root / "s3", https_port=free_port())
        s3.start()
    drill = Drill(root, retention, s3)
    figures = []
    try:
        if s3 is not None:
            S3PhotoStorage("drill-photos", "", drill.s3_options()).create_bucket()
        drill.set_up()
        backup_s = drill.backup()
        # planned: the last segment archived before the loss
        reports, photos = write(drill, base, count, seed=1)
        drill.archive_now()
        t = time.monotonic()
        drill.destroy()
        drill.restore()
        rto = time.monotonic() - t
        lost, bad = back(drill, base, reports, photos)
        figures.append(("last WAL segment archived, then the disk lost", len(reports),
                        len(photos), lost, bad, rto))
        # sudden: the loss comes before the segment in progress is archived
        drill.backup()
        reports, photos = write(drill, base, count, seed=1000)
        t = time.monotonic()
        drill.destroy()
        drill.restore()
        rto = time.monotonic() - t
        lost_sudden, bad_sudden = back(drill, base, reports, photos)
        figures.append(("disk lost with the WAL segment in progress unarchived", len(reports),
                        len(photos), lost_sudden, bad_sudden, rto))
        info = drill.pgbackrest("info")
    finally:
        drill.stop()
        if s3 is not None:
            s3.stop()
        shutil.rmtree(root, ignore_errors=True)
    write_doc(figures, backup_s, retention, info, clock_at,
              "a bucket of an S3 store of the drill's own (SeaweedFS over HTTPS, `repo1-type=s3`, "
              "as production keeps it in the city's object store), the photos in another bucket "
              "of it" if s3 else "a folder (production keeps it in the object store: "
              "`repo1-type=s3`), the photos in a folder too")
    for row in figures:
        print(" | ".join(str(x) for x in row))
    return 1 if figures[0][3] or figures[0][4] else 0


def write_doc(figures, backup_s: float, retention: int, info: str, when: datetime,
              repo: str) -> None:
    full = len(re.findall(r"full backup", info))
    rows = "\n".join(f"| {what} | {n} | {p} | {lost} | {bad} | {rto:.1f} |"
                     for what, n, p, lost, bad, rto in figures)
    stamp = when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = f"""{BEGIN}
## Backups restored: `make restore-drill`

pgBackRest {_version()} (Debian's package): WAL archiving (`archive_command`
`pgbackrest archive-push`, `archive_timeout = 60`), full base backups (`start-fast`, lz4),
`repo1-retention-full={retention}` (GRIDSNAP_BACKUP_RETENTION_FULL); the repository in
{repo}. The drill's own PostgreSQL: a full
backup (the demo city: {backup_s:.1f} s), then reports written through the API (a photo with
every tenth), then the disk lost (`pg_ctl stop -m immediate`, the data folder deleted), then
`pgbackrest restore` of the latest point and the server started until it leaves recovery.
Run {stamp}; {full} full backup(s) in the repository at the end.

| loss | reports acknowledged | photos acknowledged | reports missing after restore | photos missing or damaged | recovery time, loss → serving (s) |
|---|---|---|---|---|---|
{rows}

**Recovery point.** With the segment in progress archived (a planned switch-over, or any
loss more than `archive_timeout` after the last write) every acknowledged report and photo came
back. A sudden loss loses what the archive did not have yet: at most the last
`archive_timeout` (60 s) of writes — the second row counts them. A city that may lose none runs
the streaming replica with `synchronous_standby_names` (a commit waits for the replica) and
fails over to it; the backup is then for the loss of both. Photos are in the object store (or
the photo folder), not in PostgreSQL: a restored row finds its photo there; back up the bucket
with the store's own versioning or replication.
**Recovery time** grows with the database's size (the restore copies the base backup and
replays the WAL since): measure it with a copy of the real database.
{END}"""
    doc = DOC.read_text(encoding="utf-8")
    if BEGIN in doc:
        doc = doc[:doc.index(BEGIN)] + section + doc[doc.index(END) + len(END):]
    else:
        doc = doc.rstrip("\n") + "\n\n" + section + "\n"
    DOC.write_text(doc, encoding="utf-8")
    print(f"wrote {DOC.relative_to(REPO)}")


def _version() -> str:
    out = subprocess.run(["pgbackrest", "version"], capture_output=True, text=True).stdout
    return out.split()[-1] if out else "?"


if __name__ == "__main__":
    sys.exit(main())
