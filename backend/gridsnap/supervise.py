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
import socket
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from hashlib import sha1
from pathlib import Path

from .settings import REPO_ROOT

DEPLOY_DIR = REPO_ROOT / "deploy"
NGINX_SITE = DEPLOY_DIR / "nginx" / "gridsnap.conf.tmpl"
NGINX_LOCAL = DEPLOY_DIR / "nginx" / "nginx-local.conf.tmpl"
SUPERVISORD = DEPLOY_DIR / "supervisord.conf.tmpl"

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
               tile_origins: tuple[str, ...] = ()) -> str:
    """The server-level nginx configuration (deploy/nginx/gridsnap.conf.tmpl) filled in;
    tile_origins: the base map's origins (maps.rules.basemap_origins), the only ones besides
    our own that the Content-Security-Policy lets the apps fetch from."""
    return render(NGINX_SITE, {"listen": listen, "upstream": upstream,
                               "max_body_bytes": max_body_bytes, "temp_dir": temp_dir,
                               "tile_origins": "".join(f" {o}" for o in tile_origins)})


@dataclass
class FrontServer:
    """nginx in front of `upstream`, with every file under `root` (config, pid, logs, temp)."""

    root: Path
    listen: str
    upstream: str
    max_body_bytes: int
    access_log: bool = False
    tile_origins: tuple[str, ...] = ()

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
                                   tile_origins=self.tile_origins))
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

    @property
    def conf(self) -> Path:
        return self.root / "supervisord.conf"

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
                           self.max_body_bytes, self.access_log, self.tile_origins)

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
