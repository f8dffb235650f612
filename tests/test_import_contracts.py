"""The import rules of CONTRIBUTING.md ("The layers") are import-linter contracts in
pyproject.toml, run by `make lint`: they hold on the code as it is, and each one fails on a
copy of the code with a break of its kind added."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path, *contracts: str) -> subprocess.CompletedProcess:
    """lint-imports on the tree at `root` (its pyproject.toml, its backend/gridsnap)."""
    args = [str(LINT_IMPORTS), "--no-cache"]
    for c in contracts:
        args += ["--contract", c]
    env = {**os.environ, "PYTHONPATH": str(root / "backend"), "COLUMNS": "200"}
    return subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def copy(tmp_path) -> Path:
    """A copy of what lint-imports reads: pyproject.toml, tools/ and backend/gridsnap."""
    for name in ("pyproject.toml", "tools"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    shutil.copytree(REPO / "backend" / "gridsnap", tmp_path / "backend" / "gridsnap",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def add_line(root: Path, module: str, line: str) -> None:
    path = root / "backend" / (module.replace(".", "/") + ".py")
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", encoding="utf-8")


def test_the_contracts_hold_on_the_code_as_it_is():
    run = lint_imports(REPO)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout
    for contract in ("layers", "no-flask-below-api", "no-api-below-api", "api-through-service",
                     "schemas-no-sql", "no-circles", "features", "case-core"):
        assert lint_imports(REPO, contract).returncode == 0, contract


def test_a_layer_below_importing_one_above_breaks_the_layers(copy):
    # the rules of the case loop must not know its read model
    add_line(copy, "gridsnap.cases.rules", "from . import views as _views")
    run = lint_imports(copy, "layers")
    assert run.returncode == 1, run.stdout
    assert "gridsnap.cases.rules is not allowed to import gridsnap.cases.views" in run.stdout


def test_a_service_importing_its_api_breaks_two_contracts(copy):
    add_line(copy, "gridsnap.hotline.service", "from . import api as _api")
    layers = lint_imports(copy, "layers")
    assert layers.returncode == 1, layers.stdout
    assert "gridsnap.hotline.service is not allowed to import gridsnap.hotline.api" in layers.stdout
    no_api = lint_imports(copy, "no-api-below-api")
    assert no_api.returncode == 1, no_api.stdout
    assert "gridsnap.hotline.service is not allowed to import gridsnap.hotline.api" in no_api.stdout


def test_flask_in_a_rules_module_breaks_the_contract(copy):
    add_line(copy, "gridsnap.deadlines.rules", "import flask as _flask")
    run = lint_imports(copy, "no-flask-below-api")
    assert run.returncode == 1, run.stdout
    assert "gridsnap.deadlines.rules is not allowed to import flask" in run.stdout


def test_sql_in_a_view_breaks_the_contract(copy):
    add_line(copy, "gridsnap.hotline.api", "from . import queries as _queries")
    run = lint_imports(copy, "api-through-service")
    assert run.returncode == 1, run.stdout
    assert "gridsnap.hotline.api is not allowed to import gridsnap.hotline.queries" in run.stdout


def test_sql_in_a_command_breaks_the_contract(copy):
    add_line(copy, "gridsnap.cli", "from .outbox import queries as _outbox_queries")
    run = lint_imports(copy, "api-through-service")
    assert run.returncode == 1, run.stdout
    assert "gridsnap.cli is not allowed to import gridsnap.outbox.queries" in run.stdout


def test_a_circle_hidden_in_a_function_breaks_the_no_circle_rule(copy):
    # the case rules name their events (events.rules); the event names never need the case
    # rules, and an import inside a function to make them is still a circle
    add_line(copy, "gridsnap.events.rules",
             "def _case_rules():\n    from ..cases import rules\n    return rules")
    run = lint_imports(copy, "no-circles")
    assert run.returncode == 1, run.stdout
    circle = next(line for line in run.stdout.splitlines() if " -> " in line)
    chain = circle.strip().split(" -> ")
    assert chain[0] == chain[-1], circle
    assert "gridsnap.events.rules" in chain and "gridsnap.cases.rules" in chain, circle


def test_a_feature_importing_one_above_it_breaks_the_feature_layers(copy):
    # the calendar is below the case loop: a deadline rule that reads the cases' statuses
    # would put the two folders in a circle again
    add_line(copy, "gridsnap.deadlines.rules", "from ..cases import rules as _case_rules")
    run = lint_imports(copy, "features")
    assert run.returncode == 1, run.stdout
    assert "gridsnap.deadlines is not allowed to import gridsnap.cases" in run.stdout


def test_two_features_of_one_layer_importing_each_other_break_the_feature_layers(copy):
    add_line(copy, "gridsnap.maps.queries", "from ..exports import rules as _export_rules")
    run = lint_imports(copy, "features")
    assert run.returncode == 1, run.stdout
    assert "gridsnap.maps is not allowed to import gridsnap.exports" in run.stdout


def test_the_change_vocabulary_importing_a_sub_process_breaks_the_case_core(copy):
    # a sub-process (cases/callback) builds on the core's Outcome, never the other way round
    add_line(copy, "gridsnap.cases.outcome", "from .callback import rules as _callback_rules")
    run = lint_imports(copy, "case-core")
    assert run.returncode == 1, run.stdout
    assert "gridsnap.cases.outcome is not allowed to import gridsnap.cases.callback" in run.stdout
