"""The schema comes from the migrations alone and matches the models; the API documents itself
and answers every error as JSON."""

from __future__ import annotations

import json

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import create_engine, text

import gridsnap.models  # noqa: F401 (every table in Base.metadata)
from gridsnap.cli import main as cli
from gridsnap.db import Base

from conftest import REPO, auth


def test_migrations_from_empty_leave_no_drift_from_the_models(database, settings):
    # `database` rebuilt the test schema from an empty one with `alembic upgrade head`
    eng = create_engine(settings.database_url)
    with eng.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={
            "compare_type": True,
            "include_object": lambda o, n, t, r, c: not (t == "table" and n == "spatial_ref_sys"),
        })
        diff = compare_metadata(ctx, Base.metadata)
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    eng.dispose()
    assert diff == []
    assert version is not None


def test_database_constraints_hold_without_the_python_checks(engine):
    import pytest
    from sqlalchemy.exc import IntegrityError

    bad = [
        "INSERT INTO areas (code, level, name, boundary) VALUES ('12345', 'district', 'x', "
        "ST_Multi(ST_MakeEnvelope(0, 0, 1, 1, 4326)))",
        "INSERT INTO areas (code, level, parent_code, name, boundary) VALUES "
        "('110102001', 'street', '110101', 'x', ST_Multi(ST_MakeEnvelope(0, 0, 1, 1, 4326)))",
        "UPDATE categories SET priority = 9",
        "UPDATE users SET role = 'boss'",
    ]
    for sql in bad:
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text(sql))


def test_openapi_document_describes_the_endpoints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    for p in ("/api/v1/reports/{report_id}", "/api/v1/reports/{report_id}/photos/{photo_id}",
              "/api/v1/photos/{photo_id}", "/api/v1/cells/locate", "/api/v1/cells",
              "/api/v1/categories", "/api/v1/health", "/api/v1/auth/token"):
        assert p in paths, p
    put = paths["/api/v1/reports/{report_id}"]["put"]
    assert {"201", "200", "409", "422"} <= set(put["responses"])
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_swagger_ui_is_served_from_local_files(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/api/v1/docs/static/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower() and "unpkg" not in page.lower()
    js = client.get("/api/v1/docs/static/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.data) > 100_000


def test_errors_are_json_never_html(client, tokens):
    cases = [
        client.get("/api/v1/no-such-thing"),
        client.post("/api/v1/health"),
        client.post("/api/v1/auth/token", data="x", content_type="text/plain"),
        client.post("/api/v1/auth/token", json={"username": 5}),
    ]
    for r in cases:
        assert r.is_json, r.data[:100]
        body = r.get_json()
        assert isinstance(body["code"], str) and body["message"]
        assert "Traceback" not in json.dumps(body)
    assert cases[0].get_json()["code"] == "request.not_found"
    assert cases[1].status_code == 405
    assert cases[3].status_code == 422 and "password" in cases[3].get_json()["fields"]


def test_categories_follow_the_national_classes(client, tokens):
    cats = client.get("/api/v1/categories", headers=auth(tokens["worker"])).get_json()
    majors = {(c["kind"], c["major_name"]) for c in cats}
    for name in ("公用设施", "道路交通", "市容环境", "园林绿化", "房屋土地", "其他设施"):
        assert ("component", name) in majors
    for name in ("市容环境", "宣传广告", "施工管理", "街面秩序", "突发事件", "其他事件"):
        assert ("event", name) in majors
    for c in cats:
        assert set(c["time_limits"]) == {"accept", "handle", "verify"}
        assert c["department"] is not None and c["name_en"]


def test_demo_fixtures_are_consistent(engine):
    deps = {d["code"] for d in json.loads((REPO / "fixtures/departments.json").read_text())}
    users = json.loads((REPO / "fixtures/users.json").read_text())
    assert {u["role"] for u in users} == {"worker", "supervisor", "handler", "call_taker", "admin",
                                          "mediator"}
    assert all(u["department"] in deps for u in users if u["role"] == "handler")
    with engine.connect() as conn:
        levels = dict(conn.execute(text(
            "SELECT level, count(*) FROM areas WHERE code LIKE '110101%' GROUP BY level")).all())
    assert levels["district"] == 1 and levels["street"] >= 2 and levels["community"] >= 4
    assert levels["cell"] >= 300


def test_cli_user_add_scope_disable(settings, monkeypatch, engine):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    runner = CliRunner()
    r = runner.invoke(cli, ["user", "add", "zhao_wg", "--role", "worker", "--scope",
                            "110101001001", "--password", "field-pass-1",
                            "--display-name", "赵网格"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["user", "add", "zhao_wg", "--role", "worker",
                            "--password", "field-pass-1"])
    assert r.exit_code == 1 and "exists already" in r.output
    r = runner.invoke(cli, ["user", "add", "h2", "--role", "handler", "--password", "x-pass-123"])
    assert r.exit_code == 1 and "department" in r.output
    r = runner.invoke(cli, ["user", "scope", "zhao_wg", "110101001", "110101002"])
    assert r.exit_code == 0
    with engine.connect() as conn:
        scopes = conn.execute(text("SELECT scopes FROM users WHERE username = 'zhao_wg'")).scalar()
    assert scopes == ["110101001", "110101002"]
    r = runner.invoke(cli, ["user", "scope", "zhao_wg", "abc"])
    assert r.exit_code == 1
    r = runner.invoke(cli, ["revoke-tokens", "zhao_wg"])
    assert r.exit_code == 0 and "revoked" in r.output
    assert runner.invoke(cli, ["user", "disable", "zhao_wg"]).exit_code == 0


def test_cli_outbox_status_lists_topics(settings, monkeypatch, client, tokens, demo_cell):
    from conftest import new_id, report_body

    client.put(f"/api/v1/reports/{new_id()}", json=report_body(demo_cell),
               headers=auth(tokens["worker"]))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    r = CliRunner().invoke(cli, ["outbox", "status"])
    assert r.exit_code == 0 and "report.submitted" in r.output
