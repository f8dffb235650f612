"""The production shape: the systemd units of deploy/systemd/, rendered as `gridsnap deploy-config
systemd` renders them, are valid to systemd itself (`systemd-analyze verify`: syntax, known keys,
executables that exist, the units they name), nginx's drop-in included, and restart what dies."""

from __future__ import annotations

import os
import shutil
import subprocess
from configparser import ConfigParser
from pathlib import Path

import pytest

from gridsnap.settings import REPO_ROOT
from gridsnap.supervise import systemd_units


@pytest.fixture()
def units(tmp_path) -> Path:
    """The units rendered for this checkout (its .venv is the one whose executables they run)."""
    for name, text in systemd_units(prefix=REPO_ROOT, user="gridsnap", env_file="/etc/gridsnap/env",
                                    api_port=8000, state_dir=tmp_path / "run").items():
        path = tmp_path / "units" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path / "units"


def _verify(units: Path, *names: str) -> subprocess.CompletedProcess:
    exe = shutil.which("systemd-analyze")
    if exe is None:
        pytest.fail("systemd-analyze is missing (make test installs Debian's systemd package)")
    # the units' folder first in the search path, the system's after it (Debian's nginx.service,
    # network-online.target): the drop-in is read as systemd would read it from /etc
    env = {**os.environ, "SYSTEMD_UNIT_PATH": f"{units}:"}
    return subprocess.run([exe, "verify", "--man=no", *names], cwd=units, env=env,
                          capture_output=True, text=True)


def test_the_rendered_units_are_valid_to_systemd(units):
    names = ["gridsnap-api.service", "gridsnap-relay.service", "gridsnap-worker@0.service",
             "gridsnap-supervisord.service", "gridsnap.target"]
    if Path("/lib/systemd/system/nginx.service").exists() or Path(
            "/usr/lib/systemd/system/nginx.service").exists():
        names.append("nginx.service")  # with deploy/systemd/nginx.service.d/gridsnap.conf
    else:
        pytest.fail("Debian's nginx.service is missing (make test installs nginx)")
    out = _verify(units, *names)
    # any warning counts: an unknown key is only a warning to systemd, and a unit that does not
    # do what it says
    assert out.returncode == 0 and not out.stderr.strip(), out.stderr


def test_systemd_analyze_would_catch_a_broken_unit(units):
    """The check above can fail: a key in the wrong section and a missing executable."""
    api = units / "gridsnap-api.service"
    api.write_text(api.read_text().replace("[Service]", "[Service]\nStartLimitBurst=0\nBogus=1")
                   .replace("/.venv/bin/gridsnap serve", "/.venv/bin/no-such-program serve"))
    out = _verify(units, "gridsnap-api.service")
    assert out.returncode != 0
    assert "Bogus" in out.stderr and "no-such-program" in out.stderr


def test_every_service_restarts_what_dies_and_never_gives_up(units):
    for path in [*units.glob("*.service"), units / "nginx.service.d" / "gridsnap.conf"]:
        unit = ConfigParser(strict=False, interpolation=None)
        unit.optionxform = str
        unit.read_string(path.read_text())
        assert unit.get("Service", "Restart") == "always", path.name
        assert unit.get("Unit", "StartLimitIntervalSec") == "0", path.name
