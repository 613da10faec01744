"""The replica's admin surface is not a write-anywhere hole: every write needs the key and a
JSON body (so a page in the engineer's browser cannot send one cross-site), snapshots stay
inside the replica's data dir, and bad bodies are a 400 naming what was wrong — never a 500.
Real uvicorn, raw HTTP, the way a browser or curl would send it."""

from __future__ import annotations

import sqlite3

import httpx
import pytest

from sandbox.replica.testing import TEST_KEY

KEY = {"Authorization": f"Bearer {TEST_KEY}"}
WRITES = [("POST", "/_replica/faults", {"kind": "server_error", "path": "/v1/nothing"}),
          ("DELETE", "/_replica/faults", None),
          ("DELETE", "/_replica/requests", None),
          ("POST", "/_replica/clock", {"advance": 60}),
          ("POST", "/_replica/snapshot", {"path": "snap.sqlite"}),
          ("POST", "/_replica/restore", {"path": "snap.sqlite"}),
          ("POST", "/_replica/bulk", {"objects": []})]


def _error(resp: httpx.Response, status: int) -> str:
    assert resp.status_code == status, resp.text
    body = resp.json()["error"]  # Stripe's error shape, never a traceback
    assert "Traceback" not in resp.text
    return body["message"]


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_every_write_needs_the_key(replica, method, path, body):
    replica.admin.add_fault(kind="server_error", path="/v1/kept")
    before = replica.admin.now()
    resp = httpx.request(method, replica.url + path, json=body)
    assert "API key" in _error(resp, 401)
    bad_key = httpx.request(method, replica.url + path, json=body,
                            headers={"Authorization": "Bearer sk_live_notallowed0000"})
    _error(bad_key, 401)
    assert [r["path"] for r in replica.admin.faults()] == ["/v1/kept"]  # nothing changed
    assert replica.admin.now() - before < 60
    assert not (replica.config.snapshots / "snap.sqlite").exists()


@pytest.mark.parametrize(("method", "path", "body"), [w for w in WRITES if w[0] == "POST"])
def test_a_cross_site_text_plain_post_changes_nothing(replica, method, path, body):
    """What a form on any web page can send without a preflight: text/plain (even with a key
    it would have to guess, and with a JSON-looking body)."""
    import json

    for headers in ({"Content-Type": "text/plain"}, {**KEY, "Content-Type": "text/plain"},
                    {**KEY, "Content-Type": "application/x-www-form-urlencoded"}):
        resp = httpx.post(replica.url + path, content=json.dumps(body), headers=headers)
        assert resp.status_code in (401, 415), resp.text
    assert replica.admin.faults() == []
    assert not (replica.config.snapshots / "snap.sqlite").exists()


def test_snapshots_stay_in_the_snapshot_folder(replica, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere")
    folder = replica.config.snapshots
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "link").symlink_to(outside, target_is_directory=True)
    db = replica.config.db_path
    # the database's own folder holds other files (in FDE_DATA_DIR: fde.db, secret.key)
    for given in (str(outside / "x.sqlite"), "../x.sqlite", "link/x.sqlite", "/etc/passwd",
                  ".", str(db), str(db.parent / "secret.key"), "../" + db.name + "-wal"):
        for route in ("/_replica/snapshot", "/_replica/restore"):
            resp = httpx.post(replica.url + route, json={"path": given}, headers=KEY)
            assert resp.status_code == 400, (given, route, resp.text)
            assert resp.json()["error"]["param"] == "path"
    assert list(outside.iterdir()) == [] and not (db.parent / "secret.key").exists()
    # inside the folder, relative or absolute, it works
    replica.admin.save_snapshot("daily/one.sqlite")
    replica.admin.save_snapshot(folder / "two.sqlite")
    assert (folder / "daily" / "one.sqlite").is_file() and (folder / "two.sqlite").is_file()
    replica.admin.load_snapshot("daily/one.sqlite")


def test_a_snapshot_folder_shared_with_the_database_never_names_the_live_store(tmp_path):
    from sandbox.replica.config import ReplicaConfig
    from sandbox.replica.testing import running_replica

    config = ReplicaConfig(db_path=tmp_path / "r.sqlite", snapshot_dir=tmp_path)
    with running_replica(config.db_path, config=config) as replica:
        for given in ("r.sqlite", "r.sqlite-wal", "r.sqlite-shm"):
            resp = httpx.post(replica.url + "/_replica/snapshot", json={"path": given},
                              headers=KEY)
            assert "live database" in _error(resp, 400)
        replica.admin.save_snapshot("copy.sqlite")


def test_bad_bodies_are_a_400_naming_the_problem(replica, stripe_client):
    folder = replica.config.snapshots
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "not-a-db.sqlite").write_text("hello")
    other = sqlite3.connect(folder / "other-app.sqlite")  # a database, not a replica store
    other.execute("CREATE TABLE accounts (id TEXT)")
    other.close()
    cases = [
        ("/_replica/clock", b"{not json", "not valid JSON"),
        ("/_replica/clock", b"[1, 2]", "JSON object"),
        ("/_replica/clock", b'{"set": "soon"}', "invalid set"),
        ("/_replica/clock", b'{"advance": -5}', "invalid advance"),
        ("/_replica/clock", b'{"rewind": 5}', "invalid rewind"),
        ("/_replica/faults", b'{"kind": "meteor"}', "invalid kind"),
        ("/_replica/faults", b'{"rules": "all"}', "invalid rules"),
        ("/_replica/snapshot", b"{}", "invalid path"),
        ("/_replica/snapshot", b'{"path": 7}', "invalid path"),
        ("/_replica/restore", b'{"path": "not-a-db.sqlite"}', "not a replica snapshot"),
        ("/_replica/restore", b'{"path": "other-app.sqlite"}', "not a replica snapshot"),
        ("/_replica/bulk", b'{"objects": [1]}', "invalid objects.0"),
    ]
    for route, raw, needle in cases:
        resp = httpx.post(replica.url + route, content=raw,
                          headers={**KEY, "Content-Type": "application/json"})
        assert needle in _error(resp, 400), (route, raw, resp.text)
    missing = httpx.post(replica.url + "/_replica/restore", json={"path": "nope.sqlite"},
                         headers=KEY)
    assert "no snapshot file" in _error(missing, 404)
    # the replica still serves, with its state intact
    assert stripe_client.v1.customers.create(params={"name": "still here"}).id
