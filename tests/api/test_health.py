"""The API over a real socket (uvicorn), on SQLite and PostgreSQL."""

import httpx

from api.main import create_app
from core.server_thread import ServerThread
from core.settings import load_settings
from core.storage import schema_revision
from tests.api.api_helpers import bearer


def test_healthz_and_info_over_http(database_url: str):
    app = create_app(load_settings(database_url=database_url))
    with ServerThread(app) as server:
        health = httpx.get(f"{server.url}/healthz")
        info = httpx.get(f"{server.url}/info", headers=bearer(app.state.db, "viewer"))
        anonymous = httpx.get(f"{server.url}/info")
    assert health.status_code == 200
    body = health.json()
    assert (body["status"], body["database"]) == ("ok", "ok")
    assert body["schema_revision"] == schema_revision(app.state.db.engine)[1]
    assert health.headers["x-request-id"].startswith("req_")
    assert info.json()["name"] == "fde-ops"
    assert anonymous.status_code == 401 and "token" in anonymous.json()["detail"]
    assert info.json()["database_backend"] in {"sqlite", "postgresql"}


def test_openapi_schema_is_served():
    app = create_app(load_settings())
    with ServerThread(app) as server:
        schema = httpx.get(f"{server.url}/openapi.json").json()
    assert {"/healthz", "/info"} <= set(schema["paths"])


def test_info_names_the_replica_it_was_moved_to(monkeypatch):
    monkeypatch.setenv("FDE_REPLICA_PORT", "23456")
    app = create_app(load_settings())
    with ServerThread(app) as server:
        info = httpx.get(f"{server.url}/info", headers=bearer(app.state.db, "viewer")).json()
    assert info["stripe_api_base"] == "http://127.0.0.1:23456"
