"""Generated requests (schemathesis on /api/v1/openapi.json) for every operation, as a worker and
as a supervisor: no server error, and every answer — errors included — as the document says
(status, content type, headers, body). Bounded: a fixed number of examples per operation,
derandomized, so the run is the same every time and stays well under a minute."""

from __future__ import annotations

import collections
import os
import secrets
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridsnap import clock
from gridsnap.app import create_app
from gridsnap.settings import Settings
from gridsnap.users import queries as user_queries
from gridsnap.users.service import hash_token

from conftest import PERSONAS

# a tus PATCH sends raw bytes, as application/octet-stream does
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")

# the personas every generated request is sent as (GRIDSNAP_FUZZ_ROLES=worker,handler3,... for
# a wider run; an admin's generated PATCHes would change the demo users for later tests)
ROLES = tuple(os.environ.get("GRIDSNAP_FUZZ_ROLES", "worker,supervisor").split(","))
EXAMPLES = int(os.environ.get("GRIDSNAP_FUZZ_EXAMPLES", "12"))
# the answers by status, for a person reading a run with -s
STATUSES: collections.Counter = collections.Counter()
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


def _runs() -> list[tuple[str, GenerationMode]]:
    """Every operation of the document ("GET /api/v1/cases") with valid data, and with invalid
    data where it takes any; read from an app that touches no service (the document needs
    none)."""
    doc = create_app(Settings.from_env()).test_client().get("/api/v1/openapi.json").get_json()
    out = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if method not in ("get", "put", "post", "patch", "delete"):
                continue
            out.append((f"{method.upper()} {path}", GenerationMode.POSITIVE))
            if op.get("parameters") or ops.get("parameters") or op.get("requestBody"):
                out.append((f"{method.upper()} {path}", GenerationMode.NEGATIVE))
    return out


@pytest.fixture()
def mint(engine):
    """A fresh token of a persona (a generated DELETE /auth/token revokes the one it carries)."""
    def make(persona: str) -> str:
        raw = secrets.token_urlsafe(32)
        with Session(engine) as session:
            user = user_queries.find_user_by_username(session, PERSONAS[persona])
            user_queries.insert_token(session, user_id=user.id, token_hash=hash_token(raw),
                                      expires_at=clock.now() + timedelta(hours=1),
                                      label="fuzz")
            session.commit()
        return raw
    return make


@pytest.fixture(autouse=True)
def _no_campaigns_left(engine):
    yield
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE campaigns RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="module")
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.mark.parametrize(("label", "mode"), _runs())
def test_generated_requests_get_no_server_error_and_documented_answers(label, mode, api_schema,
                                                                        mint):
    method, path = label.split(" ", 1)
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis_settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck))
    def run(case):
        for persona in ROLES:
            response = case.call_and_validate(
                headers={"Authorization": f"Bearer {mint(persona)}"}, checks=CHECKS)
            STATUSES[response.status_code] += 1

    run()


@pytest.fixture(scope="module", autouse=True)
def _tally():
    yield
    print(f"\nschemathesis: {sum(STATUSES.values())} requests, by status {dict(sorted(STATUSES.items()))}")
