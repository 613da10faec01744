"""Real HTTP: the replica delivers a signed webhook to a running fde API; the map's live edge
for that event type shows the delivery; a replay older than the tolerance and a body altered
by one byte are both rejected."""

from __future__ import annotations

import time

import httpx

from api.main import create_app
from core.server_thread import ServerThread
from core.settings import load_settings
from sandbox.replica.testing import running_replica
from tests.api.api_helpers import bearer
from tests.api.webhook_helpers import add_engagement, sign
from tools.webhooks import inbox


def test_replica_delivery_reaches_the_live_map_and_replays_are_rejected(tmp_path):
    settings = load_settings()
    app = create_app(settings)
    with running_replica(tmp_path / "replica.db") as replica, ServerThread(app) as api:
        add_engagement(app.state.db, settings, secrets=())
        auth = bearer(app.state.db, "viewer")
        client = replica.client()
        endpoint = client.v1.webhook_endpoints.create(params={
            "url": f"{api.url}/webhooks/stripe/acme", "enabled_events": ["customer.created"]})
        from core.secrets import secret_box
        from tools.webhooks.secrets import add_secret
        with app.state.db.session() as session:
            add_secret(session, secret_box(settings), "acme", endpoint.secret, actor="test")

        started = time.monotonic()
        customer = client.v1.customers.create(params={"email": "live@example.com"})
        edge = None
        deadline = started + 30  # generous on a busy machine; the latency is reported
        while time.monotonic() < deadline:
            edges = httpx.get(f"{api.url}/webhooks/stripe/acme/edges", headers=auth).json()
            edge = next((e for e in edges if e["event_type"] == "customer.created"), None)
            if edge:
                break
            time.sleep(0.01)
        latency = time.monotonic() - started
        assert edge is not None, "the delivery never reached the map"
        print(f"\nreceiver→map latency: {latency * 1000:.0f} ms")  # noqa: T201 - reported
        assert edge["health"]["deliveries"] == 1 and edge["health"]["success_rate"] == 1.0
        assert edge["source"] == "event:customer.created"
        attempts = replica.admin.wait_deliveries(1, endpoint=endpoint.id)
        assert attempts[0]["status"] == 200

        with app.state.db.session() as session:
            (stored,) = inbox.list_events(session, "acme")
            body = inbox.body(session, "acme", stored.event_id).encode()
        assert stored.object_id == customer.id
        url = f"{api.url}/webhooks/stripe/acme"
        stale = httpx.post(url, content=body, headers={
            "Stripe-Signature": sign(body, endpoint.secret, int(time.time()) - 301)})
        assert stale.status_code == 400 and "tolerance" in stale.json()["detail"]
        altered = bytearray(body)
        altered[body.index(b"live@")] ^= 0x01
        tampered = httpx.post(url, content=bytes(altered), headers={
            "Stripe-Signature": sign(body, endpoint.secret)})
        assert tampered.status_code == 400
        fresh = httpx.post(url, content=body, headers={
            "Stripe-Signature": sign(body, endpoint.secret)})
        assert fresh.json()["duplicate"] is True  # the genuine body, re-signed: deduped
        with app.state.db.session() as session:
            assert inbox.count(session, "acme") == 1
