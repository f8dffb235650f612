"""The supervised stack of `gridsnap run`: nginx in front of gunicorn, the RQ workers and the
outbox relay under supervisord, their configuration rendered from the templates in `deploy/`.

The same templates make the production files (`gridsnap deploy-config`), so what `make run`
serves is what a deployment serves. PostgreSQL and Redis are not part of the stack: they are
started before it (devservices) and outlive any of its processes.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from hashlib import sha1
from pathlib import Path

from .procs import alive, cmdline, die_with_parent, end, send, session_members
from .settings import REPO_ROOT

DEPLOY_DIR = REPO_ROOT / "deploy"
NGINX_SITE = DEPLOY_DIR / "nginx" / "gridsnap.conf.tmpl"
NGINX_LOCAL = DEPLOY_DIR / "nginx" / "nginx-local.conf.tmpl"
SUPERVISORD = DEPLOY_DIR / "supervisord.conf.tmpl"
SYSTEMD_DIR = DEPLOY_DIR / "systemd"

_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
# a unix socket's path must fit in sockaddr_un (108 bytes on Linux, with the terminating NUL)
_MAX_SOCKET_PATH = 100


class StackError(RuntimeError):
    """The stack cannot be set up (a program missing); the message says what to do."""


def render(template: Path, values: Mapping[str, object]) -> str:
    """The template with every {{name}} replaced; KeyError names the values missing."""
    text = template.read_text(encoding="utf-8")
    missing = sorted(set(_PLACEHOLDER.findall(text)) - set(values))
    if missing:
        raise KeyError(f"{template.name} needs values for {', '.join(missing)}")
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), text)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                      else None)
    if found is None:
        raise StackError("nginx is not installed: sudo apt-get install nginx (make run does it)")
    return found


def _mime_types() -> str:
    for path in ("/etc/nginx/mime.types", "/usr/share/nginx/mime.types"):
        if Path(path).exists():
            return path
    raise StackError("nginx's mime.types is missing: sudo apt-get install nginx")


def nginx_site(*, listen: str, upstream: str, max_body_bytes: int, temp_dir: Path | str,
               tile_origins: tuple[str, ...] = (),
               access_log: str | None = "/var/log/nginx/gridsnap-access.log",
               photo_store_origin: str = "") -> str:
    """The server-level nginx configuration (deploy/nginx/gridsnap.conf.tmpl) filled in;
    tile_origins: the base map's origins (maps.rules.basemap_origins), the only ones besides
    our own that the Content-Security-Policy lets the apps fetch from; access_log: the file
    of the server's access log (None: off), written with api_key values redacted;
    photo_store_origin: the object store's scheme://host[:port]
    (storage.S3PhotoStorage.origin), which the internal location that serves photos fetches
    from. `upstream`: one API node, or several separated by commas (round-robin)."""
    servers = "\n".join(f"    server {u.strip()} max_fails=0;"
                        for u in upstream.split(",") if u.strip())
    return render(NGINX_SITE, {"listen": listen, "upstream_servers": servers,
                               "max_body_bytes": max_body_bytes, "temp_dir": temp_dir,
                               "tile_origins": "".join(f" {o}" for o in tile_origins),
                               "access_log": (f"{access_log} gridsnap_redacted"
                                              if access_log else "off"),
                               "photo_store_location": photo_store_location(photo_store_origin)})


def photo_store_location(origin: str) -> str:
    """nginx's internal location for photos in an object store: the API decides who may see
    a photo and answers X-Accel-Redirect: /_photo_store/<bucket>/<key>?<presigned query>; nginx
    fetches that from the store and sends it on, the bytes never in Python. The Host sent is the
    store's (the signature covers it); the store's own caching and identity headers are not
    passed on (the API's Cache-Control and Content-Disposition are). "" without a store."""
    if not origin:
        return ""
    host = origin.split("://", 1)[1]
    tls = "\n        proxy_ssl_server_name on;" if origin.startswith("https://") else ""
    return f"""
    # photos in the object store (GRIDSNAP_PHOTO_STORE=s3://…), reached only through the API
    location ^~ /_photo_store/ {{
        internal;
        proxy_pass {origin}/;
        proxy_set_header Host {host};
        proxy_set_header Authorization "";
        proxy_set_header Cookie "";{tls}
        proxy_hide_header ETag;
        proxy_hide_header Cache-Control;
        proxy_hide_header Last-Modified;
        proxy_hide_header Server;
        proxy_hide_header Set-Cookie;
        proxy_hide_header x-amz-request-id;
        proxy_hide_header x-amz-id-2;
        proxy_intercept_errors on;
    }}"""


def systemd_units(*, prefix: Path | str, user: str, env_file: str, api_port: int,
                  state_dir: Path | str) -> dict[str, str]:
    """The systemd units of deploy/systemd/ filled in: {path under /etc/systemd/system: text}."""
    values = {"prefix": prefix, "user": user, "group": user, "env_file": env_file,
              "api_port": api_port, "state_dir": state_dir}
    return {str(t.relative_to(SYSTEMD_DIR)).removesuffix(".tmpl"): render(t, values)
            for t in sorted(SYSTEMD_DIR.rglob("*.tmpl"))}


@dataclass
class FrontServer:
    """nginx in front of `upstream`, with every file under `root` (config, pid, logs, temp)."""

    root: Path
    listen: str
    upstream: str
    max_body_bytes: int
    access_log: bool = False
    tile_origins: tuple[str, ...] = ()
    photo_store_origin: str = ""

    @property
    def conf(self) -> Path:
        return self.root / "nginx.conf"

    def write(self) -> Path:
        """Write the configuration; returns the main file's path."""
        temp, logs = self.root / "tmp", self.root / "log"
        for d in (self.root, temp, logs):
            d.mkdir(parents=True, exist_ok=True)
        site = self.root / "gridsnap-site.conf"
        site.write_text(nginx_site(listen=self.listen, upstream=self.upstream,
                                   max_body_bytes=self.max_body_bytes, temp_dir=temp,
                                   tile_origins=self.tile_origins,
                                   access_log=(f"{logs}/nginx-access.log" if self.access_log
                                               else None),
                                   photo_store_origin=self.photo_store_origin))
        # nginx's master, when root, runs its workers as `nobody` by default; they could not
        # reach a state folder under a home only root may enter, so they stay root here (a
        # production install uses Debian's nginx.conf, whose workers are www-data)
        self.conf.write_text(render(NGINX_LOCAL, {
            "user_line": "user root;" if os.geteuid() == 0 else "",
            "run_dir": self.root, "log_dir": logs, "temp_dir": temp,
            "mime_types": _mime_types(), "site_conf": site,
            "access_log": f"{logs}/nginx-access.log" if self.access_log else "off",
        }))
        return self.conf

    def argv(self) -> list[str]:
        """nginx in the foreground (daemon off is in the configuration)."""
        return [nginx_binary(), "-p", str(self.root), "-c", str(self.conf),
                "-e", str(self.root / "log" / "nginx-error.log")]

    def check(self) -> None:
        """Raise StackError with nginx's words if the configuration does not parse."""
        out = subprocess.run([*self.argv(), "-t", "-q"], capture_output=True, text=True)
        if out.returncode != 0:
            raise StackError(f"nginx rejects {self.conf}:\n{out.stderr}")


@dataclass
class Stack:
    """The processes of one gridsnap machine under supervisord, state under `root`."""

    root: Path
    listen: str
    api_port: int
    web_workers: int
    rq_workers: int
    max_body_bytes: int
    log_to_stdout: bool = True
    access_log: bool = False
    tile_origins: tuple[str, ...] = ()
    photo_store_origin: str = ""

    @property
    def conf(self) -> Path:
        return self.root / "supervisord.conf"

    @property
    def pidfile(self) -> Path:
        """supervisord's (it is the leader of the stack's session: its pid is the session id)."""
        return self.root / "supervisord.pid"

    @property
    def socket(self) -> Path:
        path = self.root / "supervisor.sock"
        if len(str(path)) <= _MAX_SOCKET_PATH:
            return path
        # a deep checkout: the control socket goes to a short path named after the state folder
        digest = sha1(str(self.root).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"gridsnap-{digest}.sock"

    @property
    def front(self) -> FrontServer:
        return FrontServer(self.root / "nginx", self.listen, f"127.0.0.1:{self.api_port}",
                           self.max_body_bytes, self.access_log, self.tile_origins,
                           self.photo_store_origin)

    def write(self) -> Path:
        """Write supervisord's and nginx's configuration; returns supervisord's."""
        logs = self.root / "log"
        logs.mkdir(parents=True, exist_ok=True)
        front = self.front
        front.write()
        front.check()
        self.conf.write_text(render(SUPERVISORD, {
            "run_dir": self.root, "log_dir": logs, "workdir": REPO_ROOT, "socket": self.socket,
            # stated, so that supervisord does not warn that it kept root's privileges
            "user_line": "user=root" if os.geteuid() == 0 else "",
            "python": shlex.quote(sys.executable), "web_workers": self.web_workers,
            "launch": shlex.join([sys.executable, "-m", "gridsnap.launch",
                                  "--state", str(self.root / "launch")]),
            "listen": self.listen,
            "api_bind": f"127.0.0.1:{self.api_port}", "rq_workers": self.rq_workers,
            "api_access_log": "-" if self.access_log else "/dev/null",
            "nginx_command": shlex.join(front.argv()),
            "program_log": ("/dev/stdout" if self.log_to_stdout
                            else f"{logs}/%(program_name)s-%(process_num)d.log"),
            "log_maxbytes": 0 if self.log_to_stdout else "10MB",
        }))
        return self.conf

    def argv(self) -> list[str]:
        return [sys.executable, "-m", "supervisor.supervisord", "-c", str(self.conf)]

    def ctl_argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "supervisor.supervisorctl", "-c", str(self.conf), *args]

    def ctl(self, *args: str) -> str:
        """supervisorctl's output for `args` (e.g. "status", "pid worker:worker-0")."""
        return subprocess.run(self.ctl_argv(*args), capture_output=True, text=True).stdout


def _supervisord_child() -> None:
    """In supervisord's process before exec: SIGTERM when `gridsnap run` dies (even by kill -9),
    on which supervisord stops its programs in order."""
    die_with_parent(signal.SIGTERM)


class Keeper:
    """Keeps the stack's supervisord running, as `gridsnap run` does: supervisord is the leader
    of a session of its own, and every process of the stack is in that session, whatever became
    of its parent. When supervisord dies (kill -9, OOM) its children get SIGTERM (the
    parent-death signal gridsnap.launch sets); the keeper ends what is left of the session
    (TERM, `grace_s`, KILL) and starts supervisord again — at once the first time, then after
    1 s, 2 s, 4 s, … up to 30 s while it keeps dying within a minute. The same clearing runs
    before the first start, for what a predecessor killed with -9 left (supervisord.pid names
    its session). An exit 0 (`gridsnap ctl shutdown`, a TERM sent to supervisord) is a
    deliberate stop: keep() returns."""

    def __init__(self, stack: Stack, say: Callable[[str], None] = print,
                 env: Mapping[str, str] | None = None, grace_s: float = 5.0):
        self.stack, self.say, self.env, self.grace_s = stack, say, env, grace_s
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0
        self.restarts = 0

    def _recorded_session(self) -> int | None:
        try:
            return int(self.stack.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None

    def _ours(self, pid: int) -> bool:
        line = cmdline(pid)
        return "supervisord" in line and str(self.stack.conf) in line

    def leftovers(self, sid: int | None = None) -> list[int]:
        """The processes left of the session `sid` (default: the one supervisord.pid names),
        its supervisord first if that lives."""
        sid = self._recorded_session() if sid is None else sid
        if sid is None:
            return []
        if alive(sid):
            # a live number is a session leader: this stack's supervisord, or (the number was
            # taken again after every member had ended) another program, with nothing of ours
            return [sid, *session_members(sid)] if self._ours(sid) else []
        return session_members(sid)

    def clear_leftovers(self, sid: int | None = None) -> int:
        """End what is left of a previous supervisord's session; returns how many processes.
        A supervisord of this stack still alive (its `gridsnap run` was killed) is stopped
        first, in order (it stops its programs); the rest get TERM, a grace, then KILL."""
        sid = self._recorded_session() if sid is None else sid
        left = self.leftovers(sid)
        if left:
            if alive(sid) and self._ours(sid):
                end([sid], 60)
            end(self.leftovers(sid), self.grace_s)
        self.stack.pidfile.unlink(missing_ok=True)
        return len(left)

    def start(self) -> None:
        self.clear_leftovers()
        self.proc = subprocess.Popen(self.stack.argv(), start_new_session=True,
                                     env=None if self.env is None else dict(self.env),
                                     preexec_fn=_supervisord_child)
        self.started_at = time.monotonic()

    def keep(self, stop: threading.Event) -> None:
        """Watch supervisord until `stop` is set or it ends with exit 0; start it again when it
        dies otherwise."""
        quick = 0
        while not stop.is_set():
            if self.proc is None:
                self.start()
            while self.proc.poll() is None and not stop.wait(0.1):
                pass
            if stop.is_set():
                return
            code, lived = self.proc.returncode, time.monotonic() - self.started_at
            if code == 0:
                self.say("supervisord was shut down (exit 0): stopping")
                return
            quick = quick + 1 if lived < 60 else 0
            delay = 0.0 if quick <= 1 else min(2.0 ** (quick - 2), 30.0)
            how = f"killed by signal {-code}" if code < 0 else f"exit {code}"
            left = self.clear_leftovers(self.proc.pid)
            self.say(f"supervisord died ({how}) after {lived:.0f} s; ended the {left} "
                     f"process(es) it left; starting it again"
                     + (f" in {delay:.0f} s" if delay else ""))
            self.proc = None
            self.restarts += 1
            if delay and stop.wait(delay):
                return

    def kill_now(self) -> None:
        """KILL every process of the stack (a second Ctrl-C or TERM while stopping)."""
        if self.proc is None:
            return
        for pid in [self.proc.pid, *session_members(self.proc.pid)]:
            send(pid, signal.SIGKILL)

    def stop(self, timeout_s: float = 60.0) -> None:
        """Stop supervisord (it stops its programs in order) and end whatever is left."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.kill_now()
                self.proc.wait()
        self.clear_leftovers(self.proc.pid)
