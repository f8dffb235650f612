"""One permission verb (users/permissions.py): who holds a verb is a row of a table, a refusal
is the verb's 403, and a subject the caller may not see is a 404 as if it did not exist
(invariant 4). The HTTP side of every role × case is tests/test_case_access_matrix.py."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from gridsnap.cases import rules as case_rules
from gridsnap.errors import AppError
from gridsnap.users import permissions
from gridsnap.users.models import ROLES
from gridsnap.users.rules import Principal

BACKEND = Path(__file__).resolve().parents[1] / "backend" / "gridsnap"


def _p(role: str, scopes=("110101",), department=None, uid=7) -> Principal:
    return Principal(id=uid, username=role, display_name=role, role=role, scopes=tuple(scopes),
                     department_code=department)


def _facts(**kw) -> case_rules.CaseFacts:
    base = {"status": "dispatched", "department_code": "sanitation", "signed": True,
            "pending_extension": False, "verifier_id": None, "resolved_by_id": None,
            "covers_case": True, "case_id": uuid.UUID(int=1)}
    return case_rules.CaseFacts(**{**base, **kw})


def test_every_verb_of_the_table_is_held_by_its_roles_only():
    roles = ROLES
    for verb in permissions.VERBS.values():
        holders = {r for r in roles if permissions.may(_p(r), verb)}
        assert holders == (set(roles) if verb.roles is None else set(verb.roles)), verb.name


def test_a_refusal_is_the_verbs_403():
    with pytest.raises(AppError) as e:
        permissions.require(_p("supervisor"), permissions.MANAGE_USERS)
    assert (e.value.code, e.value.status) == ("auth.forbidden", 403)
    with pytest.raises(AppError) as e:
        permissions.require(_p("worker"), permissions.FILE_OPEN311_REQUESTS)
    assert (e.value.code, e.value.status) == ("open311.forbidden", 403)
    permissions.require(_p("admin"), permissions.MANAGE_USERS)  # held: no refusal


def test_a_case_outside_scope_is_a_404_whatever_the_verb():
    hidden = _facts(visible=False, covers_case=False)
    resolve = case_rules.ACTIONS["resolve"].verb
    for verb in (permissions.READ_CASE, resolve):
        with pytest.raises(AppError) as e:
            permissions.require(_p("handler", department="sanitation"), verb, hidden)
        assert (e.value.code, e.value.status) == ("case.not_found", 404)
        assert str(uuid.UUID(int=1)) in e.value.message
    missing = case_rules.subject_of(None, _p("admin", scopes=("",)), "no-such-id")
    with pytest.raises(AppError) as e:
        permissions.require(_p("admin", scopes=("",)), permissions.READ_CASE, missing)
    assert (e.value.code, e.value.status) == ("case.not_found", 404)


def test_a_case_action_is_a_verb_held_by_the_roles_of_its_row_and_the_relation_to_the_case():
    for name, action in case_rules.ACTIONS.items():
        assert action.verb.roles == action.roles and action.verb.name == f"case.{name}"
        assert action.verb.code == "case.action_forbidden"
    resolve = case_rules.ACTIONS["resolve"].verb
    mine = _p("handler", department="sanitation")
    assert permissions.may(mine, resolve, _facts())
    # the same role, another department: held, but the relation refuses (403, the case is seen)
    other = _p("handler", department="water")
    assert not permissions.may(other, resolve, _facts())
    with pytest.raises(AppError) as e:
        permissions.require(other, resolve, _facts())
    assert (e.value.code, e.value.status) == ("case.action_forbidden", 403)
    # a role the row does not name never holds it
    assert not permissions.may(_p("supervisor"), resolve, _facts())


def test_an_admin_manages_the_users_and_keys_within_its_own_scope_only():
    street, city = _p("admin", scopes=("110101001",)), _p("admin", scopes=("",))
    for verb in (permissions.MANAGE_USERS, permissions.MANAGE_OPEN311_CLIENTS):
        assert verb.relation is permissions.manages
        inside = permissions.Scoped(("110101001002", "110101001"))
        broader, unscoped = permissions.Scoped(("110101",)), permissions.Scoped(())
        assert permissions.may(street, verb, inside)
        assert not permissions.may(street, verb, broader)
        assert not permissions.may(street, verb, unscoped)  # a user of no scope: the city's
        assert all(permissions.may(city, verb, t) for t in (inside, broader, unscoped))
        # the relation never stands in for the role: a city supervisor manages nobody
        assert not permissions.may(_p("supervisor", scopes=("",)), verb, inside)


def test_routing_rules_and_campaigns_are_bound_to_their_area():
    district = _p("supervisor", scopes=("110101",))
    own, street = permissions.InArea("110101"), permissions.InArea("110101001")
    city, other = permissions.InArea(""), permissions.InArea("110102")
    edit, read = permissions.EDIT_ROUTING_RULES, permissions.READ_ROUTING_RULES
    run, see = permissions.RUN_CAMPAIGNS, permissions.READ_CAMPAIGNS
    for verb in (edit, run):  # covers: the whole area within the scope
        assert [permissions.may(district, verb, t) for t in (own, street, city, other)] == [
            True, True, False, False]
        assert permissions.may(_p("admin", scopes=("",)), verb, city)
        assert not permissions.may(_p("worker"), verb, own)
    for verb in (read, see):  # overlaps: within the scope, or a broader area routing it
        assert [permissions.may(district, verb, t) for t in (own, street, city, other)] == [
            True, True, True, False]
    assert not permissions.may(_p("worker"), read, own)  # routing rules: editors only
    assert permissions.may(_p("worker"), see, own)  # a campaign: whoever's scope overlaps


def test_no_api_or_service_checks_a_role_itself():
    """A role is asked of the table (permissions.may / require), not typed in a use case."""
    typed = []
    pattern = re.compile(r"\.role\s*(?:not in|in|==|!=)")
    for path in [*BACKEND.rglob("api.py"), *BACKEND.rglob("service.py")]:
        rel = path.relative_to(BACKEND).as_posix()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                typed.append(f"{rel}:{n}: {line.strip()}")
    assert typed == [], "ask users.permissions instead:\n" + "\n".join(typed)
