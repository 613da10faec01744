"""A built world served live: the replica's signed deliveries reach the company's webhook app
over real HTTP; with FM-01 on, every delivery fails signature verification."""

from __future__ import annotations

import shutil
import time

import httpx
from sqlalchemy import create_engine, text

from sandbox.replica.testing import TEST_KEY
from sandbox.world.config import WorldConfig
from sandbox.world.serve import running_world


def _wait_row(db, email: str, timeout: float = 20.0) -> bool:
    engine = create_engine(f"sqlite:///{db}")
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                if conn.execute(text("SELECT 1 FROM accounts WHERE email=:e"),
                                {"e": email}).first():
                    return True
            time.sleep(0.05)
        return False
    finally:
        engine.dispose()


def _serve(clean_world, tmp_path, bugs: str | None):
    world, info = clean_world
    config = WorldConfig.parse(seed=info.seed, size=info.size, bugs=bugs)
    worlds = tmp_path / "worlds"
    if bugs is None:  # reuse the module's build instead of building again
        shutil.copytree(world, worlds / config.key)
    return running_world(config, worlds, log=lambda _m: None)


def test_live_deliveries_reach_the_handler_over_http(clean_world, tmp_path):
    with _serve(clean_world, tmp_path, None) as served:
        assert httpx.get(served.handler_url + "/healthz").json() == {"ok": True}
        resp = httpx.post(served.replica_url + "/v1/customers",
                          data={"email": "live@relay.example", "name": "Live"},
                          headers={"Authorization": f"Bearer {TEST_KEY}"})
        assert resp.status_code == 200, resp.text
        assert _wait_row(served.user_db, "live@relay.example")
        deliveries = httpx.get(served.replica_url + "/_replica/deliveries").json()["data"]
        assert any(d["status"] == 200 and d["at"] for d in deliveries)


def test_fm01_handler_rejects_every_live_delivery(clean_world, tmp_path):
    with _serve(clean_world, tmp_path, "FM-01") as served:
        resp = httpx.post(served.replica_url + "/v1/customers",
                          data={"email": "fm01@relay.example"},
                          headers={"Authorization": f"Bearer {TEST_KEY}"})
        event_id = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            events = httpx.get(served.replica_url + "/v1/events",
                               headers={"Authorization": f"Bearer {TEST_KEY}"},
                               params={"limit": 1}).json()["data"]
            event_id = events[0]["id"]
            found = httpx.get(served.replica_url + "/_replica/deliveries",
                              params={"event": event_id}).json()["data"]
            if found:
                assert {d["status"] for d in found} == {400}
                break
            time.sleep(0.05)
        else:
            raise AssertionError("no delivery attempt recorded")
        assert resp.status_code == 200
        assert not _wait_row(served.user_db, "fm01@relay.example", timeout=0.5)
