"""A target's state: reset restores the snapshot taken before the run (seeded reference
tables survive), on SQLite and PostgreSQL, with the app's connections open; state read as
every table, or from a JSON state URL; resets by URL and by command."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import create_engine, text

from tools.shadow.errors import TargetError
from tools.shadow.sources import open_state
from tools.shadow.state import flatten_document

SCHEMA = [
    "CREATE TABLE plan (code VARCHAR(16) PRIMARY KEY, boxes INTEGER NOT NULL)",
    "CREATE TABLE shipment ({id}, invoice VARCHAR(40) NOT NULL, "
    "plan_code VARCHAR(16) REFERENCES plan(code), box INTEGER)",
    "INSERT INTO plan VALUES ('duo', 1), ('family', 2), ('family_plus', 3)",
]


def _setup(url: str, serial: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for sql in SCHEMA:
            conn.execute(text(sql.format(id=serial)))
    engine.dispose()


def _replay_into(url: str) -> None:
    """What a replay does to the app: ships boxes, and a bug that edits the catalogue."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO shipment (invoice, plan_code, box) VALUES "
                          "('in_1PbX7a2eZvKYlo2C', 'family', 1), "
                          "('in_1PbX7a2eZvKYlo2C', 'family', 2)"))
        conn.execute(text("UPDATE plan SET boxes = 9 WHERE code = 'duo'"))
    engine.dispose()


def _check_restored(url: str, source) -> None:
    view = source.read()
    assert view[("plan", "duo", "boxes")] == 1  # the seeded catalogue is there
    assert ("plan", "family_plus", "boxes") in view
    assert not [k for k in view if k[0] == "shipment"]
    _replay_into(url)
    after = source.read()
    assert after[("plan", "duo", "boxes")] == 9
    shipments = {k[1] for k in after if k[0] == "shipment"}
    # no surrogate id in the identity; the second row of the same invoice is its own row
    assert shipments == {"in_1PbX7a2eZvKYlo2C", "in_1PbX7a2eZvKYlo2C#2"}
    assert not any(k[2] == "id" for k in after)


def test_sqlite_reset_restores_the_snapshot_with_the_app_connected(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    _setup(url, "id INTEGER PRIMARY KEY AUTOINCREMENT")
    app = sqlite3.connect(tmp_path / "app.db")  # the app keeps its connection open
    app.execute("PRAGMA journal_mode=WAL")
    source = open_state(url, name="pantry")
    try:
        source.reset()  # before the first replay: the snapshot
        for _ in range(2):
            _replay_into(url)
            source.reset()
            _check_restored(url, source)
            source.reset()
        assert app.execute("SELECT boxes FROM plan WHERE code = 'duo'").fetchone() == (1,)
        app.execute("INSERT INTO shipment (invoice, plan_code, box) VALUES ('in_x', 'duo', 1)")
        app.commit()
        # AUTOINCREMENT's counter is part of the snapshot: numbering starts over
        source.reset()
        app.execute("INSERT INTO shipment (invoice, plan_code, box) VALUES ('in_x', 'duo', 1)")
        assert app.execute("SELECT max(id) FROM shipment").fetchone() == (1,)
    finally:
        app.close()
        source.close()


@pytest.mark.postgres
def test_postgres_reset_restores_rows_and_sequences_with_the_app_connected(pg_url):
    _setup(pg_url, "id BIGSERIAL PRIMARY KEY")
    app = create_engine(pg_url)
    held = app.connect()  # an app's pooled connection, open throughout
    source = open_state(pg_url, name="lumen")
    try:
        source.reset()
        _replay_into(pg_url)
        source.reset()
        _check_restored(pg_url, source)
        source.reset()
        held.execute(text("INSERT INTO shipment (invoice, plan_code, box) "
                          "VALUES ('in_y', 'duo', 1)"))
        held.commit()
        assert held.execute(text("SELECT max(id) FROM shipment")).scalar() == 1
        assert held.execute(text("SELECT count(*) FROM plan")).scalar() == 3
    finally:
        held.close()
        app.dispose()
        source.close()


def test_a_json_document_flattens_into_rows_keyed_by_what_they_are_about():
    doc = {"accounts": [{"stripe_customer_id": "cus_Qx81Lk2mPz0a", "quota_gb": 100,
                         "tier": {"key": "pro"}},
                        {"stripe_customer_id": "cus_Zz81Lk2mPz0b", "quota_gb": 5}],
           "ledger": {"in_1PbX7a2eZvKYlo2C": {"amount_minor": 980, "currency": "jpy"}},
           "meta": {"version": 3, "generated_at": "2026-12-08T01:00:00"}}
    view = flatten_document(doc)
    assert view[("accounts", "cus_Qx81Lk2mPz0a", "tier.key")] == "pro"
    assert view[("accounts", "cus_Zz81Lk2mPz0b", "quota_gb")] == 5
    assert view[("ledger", "in_1PbX7a2eZvKYlo2C", "amount_minor")] == 980
    assert view[("meta", "-", "version")] == 3
    # the same rows in another order are the same view
    doc["accounts"].reverse()
    assert flatten_document(doc) == view


class _App:
    """A stand-in app with a state URL and a reset URL (a real HTTP server)."""

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.resets = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _send(self, status: int, doc: object) -> None:
                body = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._send(200, {"orders": outer.rows})

            def do_POST(self) -> None:
                if self.headers.get("X-Token") != "t0ken":
                    self._send(403, {"error": "no"})
                    return
                outer.rows, outer.resets = [], outer.resets + 1
                self._send(200, {"reset": True})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def http_app() -> Iterator[_App]:
    app = _App()
    yield app
    app.server.shutdown()


def test_state_url_with_a_reset_url_and_its_header(http_app):
    source = open_state(http_app.url + "/state", name="app", reset=http_app.url + "/reset",
                        headers={"X-Token": "t0ken"})
    http_app.rows = [{"id": 7, "total": 100}]
    assert source.read() == {("orders", "7", "total"): 100, ("orders", "7", "id"): 7}
    source.reset()
    assert http_app.resets == 1 and source.read() == {}
    wrong = open_state(http_app.url + "/state", name="app", reset=http_app.url + "/reset")
    with pytest.raises(TargetError, match="answered 403"):
        wrong.reset()


def test_state_url_without_a_reset_is_refused_and_a_reset_command_runs(http_app, tmp_path):
    with pytest.raises(TargetError, match="nothing says how to reset"):
        open_state(http_app.url + "/state", name="app")
    marker = tmp_path / "reset.txt"
    source = open_state(http_app.url + "/state", name="app", reset=f"echo done > {marker}")
    source.reset()
    assert marker.read_text() == "done\n"
    failing = open_state(http_app.url + "/state", name="app", reset="exit 3")
    with pytest.raises(TargetError, match="exited 3"):
        failing.reset()
    with pytest.raises(TargetError, match="neither a database URL"):
        open_state("app.db", name="app")
