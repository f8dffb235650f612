"""Where the benchmark's database, Redis and media live, and the environment of what it starts."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from gridsnap.settings import REPO_ROOT, local_pg_port, local_redis_port

BENCH_DB = "gridsnap_bench"
BENCH_REDIS_DB = 5
# demo personas (fixtures/users.json) the benchmarks log in as: (username, password)
DEMO_WORKER = ("wangjianguo", "demo-worker-1")
DEMO_SUPERVISOR = ("zhangmin", "demo-supervisor")
VENV_BIN = Path(sys.executable).parent
PGBENCH_CANDIDATES = ("/usr/lib/postgresql/15/bin/pgbench",)


def _libpq_url(url: str, dbname: str) -> str:
    """The same server as `url` (driver suffix dropped), database `dbname`."""
    parts = urlsplit(url)
    scheme = "postgresql"
    return urlunsplit((scheme, parts.netloc, f"/{dbname}", parts.query, ""))


@dataclass(frozen=True)
class BenchEnv:
    database_url: str  # libpq form: postgresql://gridsnap@127.0.0.1:54329/gridsnap_bench
    admin_url: str  # the same server, database "postgres" (to drop and create ours)
    redis_url: str  # redis://127.0.0.1:63799/5
    media_dir: Path

    @classmethod
    def make(cls, media_dir: Path, *, db: str = BENCH_DB,
             redis_db: int = BENCH_REDIS_DB) -> BenchEnv:
        """The project-local services (or the servers DATABASE_URL / REDIS_URL name), with the
        benchmark's own database name and Redis db index in them (a part that runs apart, such
        as bench.cases, names its own)."""
        base_db = os.environ.get("DATABASE_URL") or (
            f"postgresql://gridsnap@127.0.0.1:{local_pg_port()}/postgres")
        base_redis = os.environ.get("REDIS_URL") or f"redis://127.0.0.1:{local_redis_port()}/0"
        r = urlsplit(base_redis)
        redis_url = urlunsplit((r.scheme, r.netloc, f"/{redis_db}", r.query, ""))
        return cls(database_url=_libpq_url(base_db, db),
                   admin_url=_libpq_url(base_db, "postgres"),
                   redis_url=redis_url, media_dir=media_dir)

    @property
    def db_name(self) -> str:
        return urlsplit(self.database_url).path.lstrip("/")

    @property
    def pg(self):
        """(host, port, user, dbname) for psql/pgbench."""
        p = urlsplit(self.database_url)
        return p.hostname or "127.0.0.1", p.port or 5432, p.username or "gridsnap", self.db_name

    def settings(self):
        """gridsnap's Settings for this database, Redis and media (for code run in-process)."""
        from gridsnap.settings import Settings

        return Settings.from_env(database_url=self.database_url, redis_url=self.redis_url,
                                 media_dir=self.media_dir)

    def child_env(self, **extra: str) -> dict[str, str]:
        """The environment of every process under test: configured only through these."""
        env = dict(os.environ)
        env.update(DATABASE_URL=self.database_url, REDIS_URL=self.redis_url,
                   GRIDSNAP_MEDIA_DIR=str(self.media_dir), PYTHONUNBUFFERED="1")
        env.pop("GRIDSNAP_ACCESS_LOG", None)
        env.update(extra)
        return env


def pgbench_path() -> str:
    import shutil

    for candidate in PGBENCH_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"))
    if found:
        return str(found[-1])
    return shutil.which("pgbench") or "pgbench"


__all__ = ["DEMO_SUPERVISOR", "DEMO_WORKER", "BenchEnv", "REPO_ROOT", "VENV_BIN",
           "pgbench_path"]
