"""Every picture in docs/screenshots/ is drawn by a screen test that `make screenshots` runs:
each such test module declares what it draws (`SCREENS_DRAWN`, held to it by the `shots`
fixture of tests/browser/conftest.py), and the declared screens, in Chinese and English, are
exactly the files there. A screen no test draws any more fails here, and so does a declared
screen whose picture was never generated."""

from __future__ import annotations

import ast
import re

from conftest import REPO

SHOTS = REPO / "docs" / "screenshots"
PREFIXES = ("zh", "en")


def screen_test_files() -> list[str]:
    """The test files of the Makefile's `screenshots` target."""
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^screenshots:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe, "no screenshots target in the Makefile"
    files = re.findall(r"tests/\S+\.py", recipe.group(1))
    assert files, recipe.group(1)
    return files


def declared(path) -> dict[str, tuple[str, ...]]:
    """SCREENS_DRAWN of a test module, read from its source, checked against its tests."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    tests = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and getattr(node.targets[0], "id", None) == "SCREENS_DRAWN"):
            drawn = ast.literal_eval(node.value)
            assert set(drawn) <= tests, f"{path.name}: no test {sorted(set(drawn) - tests)}"
            return drawn
    raise AssertionError(f"{path.name} declares no SCREENS_DRAWN")


def test_each_picture_in_docs_screenshots_has_a_test_that_draws_it():
    expected: dict[str, str] = {}
    for rel in screen_test_files():
        for test, screens in declared(REPO / rel).items():
            for screen in screens:
                for prefix in PREFIXES:
                    name = f"{prefix}-{screen}.png"
                    assert name not in expected, f"{name}: drawn by {expected[name]} and {test}"
                    expected[name] = f"{rel}::{test}"
    present = {p.name for p in SHOTS.iterdir() if p.is_file()}
    assert sorted(present - set(expected)) == [], "in docs/screenshots/ but drawn by no test"
    assert sorted(set(expected) - present) == [], "drawn by a test but not in docs/screenshots/"


def test_the_call_taker_the_notices_and_the_source_filter_are_among_them():
    names = {p.name for p in SHOTS.iterdir()}
    for screen in ("hotline-call", "hotline-callbacks", "command-notices", "command-list"):
        assert {f"{p}-{screen}.png" for p in PREFIXES} <= names, screen
