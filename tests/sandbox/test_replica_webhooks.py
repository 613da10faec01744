"""Events per write, and webhook delivery: signed like Stripe, retried, recorded."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe


@dataclass
class Receiver:
    url: str
    statuses: list[int] = field(default_factory=list)  # answered in order, then 200
    received: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server API)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append((body, dict(self.headers)))
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def test_every_write_emits_its_event(stripe_client):
    customer = stripe_client.v1.customers.create(
        params={"email": "e@example.com", "metadata": {"a": "1"}},
        options={"idempotency_key": "evt-key"})
    stripe_client.v1.customers.update(customer.id, params={"name": "Named", "metadata": {"a": ""}})
    stripe_client.v1.customers.update(customer.id, params={"name": "Named"})  # no change
    deleted = stripe_client.v1.customers.delete(customer.id)
    assert deleted.deleted is True
    assert stripe_client.v1.customers.retrieve(customer.id).deleted is True
    assert stripe_client.v1.customers.list().data == []
    events = stripe_client.v1.events.list().data
    assert [e.type for e in events] == ["customer.deleted", "customer.updated", "customer.created"]
    deleted_evt, updated, created = events
    assert created.data.object.id == customer.id
    assert created.request.idempotency_key == "evt-key"
    assert created.request.id.startswith("req_")
    assert created.api_version == "2026-10-28.endive"
    assert created.pending_webhooks == 0
    assert updated.data.previous_attributes.to_dict() == {"name": None, "metadata": {"a": "1"}}
    assert updated.data.object.name == "Named"
    assert deleted_evt.data.object.email == "e@example.com"
    assert stripe_client.v1.events.retrieve(created.id).id == created.id
    only = stripe_client.v1.events.list(params={"types": ["customer.created", "customer.deleted"]})
    assert [e.type for e in only.data] == ["customer.deleted", "customer.created"]
    wildcard = stripe_client.v1.events.list(params={"type": "customer.*"})
    assert len(wildcard.data) == 3
    after = stripe_client.v1.events.list(params={"created": {"gt": created.created - 1}})
    assert len(after.data) == 3


def test_delivery_is_signed_and_verifiable(replica, stripe_client, receiver):
    endpoint = stripe_client.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["customer.created"]})
    assert endpoint.secret.startswith("whsec_")
    assert "secret" not in stripe_client.v1.webhook_endpoints.retrieve(endpoint.id).to_dict()
    customer = stripe_client.v1.customers.create(params={"name": "Hooked"})
    stripe_client.v1.customers.update(customer.id, params={"name": "Not subscribed"})
    attempts = replica.admin.wait_deliveries(1, endpoint=endpoint.id)
    assert attempts[0]["status"] == 200 and attempts[0]["attempt"] == 1
    body, headers = receiver.received[0]
    event = stripe.Webhook.construct_event(body, headers["Stripe-Signature"], endpoint.secret)
    assert event.type == "customer.created" and event.data.object.id == customer.id
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, headers["Stripe-Signature"], "whsec_wrong")
    assert len(receiver.received) == 1  # customer.updated is not enabled on this endpoint
    refreshed = stripe_client.v1.events.retrieve(event.id)
    assert refreshed.pending_webhooks == 0


def test_failed_deliveries_are_retried_and_recorded(replica, stripe_client, receiver):
    receiver.statuses = [500, 500]
    endpoint = stripe_client.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["*"]})
    stripe_client.v1.products.create(params={"name": "Retried"})
    attempts = replica.admin.wait_deliveries(3, endpoint=endpoint.id)
    assert [(a["attempt"], a["status"]) for a in attempts] == [(1, 500), (2, 500), (3, 200)]
    assert attempts[0]["error"] == "HTTP 500" and attempts[2]["error"] is None
    assert all(a["latency_ms"] >= 0 for a in attempts)
    event_id = attempts[0]["event_id"]
    bodies = {b for b, _ in receiver.received}
    assert len(bodies) == 1  # every retry sends the same event body
    assert stripe_client.v1.events.retrieve(event_id).pending_webhooks == 0


def test_unreachable_endpoint_exhausts_retries_and_disabled_gets_nothing(replica, stripe_client):
    dead = stripe_client.v1.webhook_endpoints.create(
        params={"url": "http://127.0.0.1:9/nothing", "enabled_events": ["*"]})
    off = stripe_client.v1.webhook_endpoints.create(
        params={"url": "http://127.0.0.1:9/off", "enabled_events": ["*"]})
    stripe_client.v1.webhook_endpoints.update(off.id, params={"disabled": True})
    customer = stripe_client.v1.customers.create(params={"name": "Nobody listens"})
    attempts = replica.admin.wait_deliveries(4, endpoint=dead.id)
    assert [a["attempt"] for a in attempts] == [1, 2, 3, 4]
    assert all(a["status"] is None and a["error"] for a in attempts)
    assert replica.admin.deliveries(endpoint=off.id) == []
    event = stripe_client.v1.events.list(params={"type": "customer.created"}).data[0]
    assert event.data.object.id == customer.id and event.pending_webhooks == 1
    # delivery_success: false lists what some endpoint has not acknowledged, true the rest
    failing = stripe_client.v1.events.list(params={"delivery_success": False})
    assert [e.id for e in failing.data] == [event.id]
    acknowledged = stripe_client.v1.events.list(params={"delivery_success": True})
    assert event.id not in {e.id for e in acknowledged.data}
    assert all(e.pending_webhooks == 0 for e in acknowledged.data)


def test_connect_endpoint_receives_connected_account_events(replica, stripe_client, receiver):
    endpoint = stripe_client.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["customer.created"], "connect": True})
    acct = stripe_client.v1.accounts.create(params={"type": "custom"})
    replica.client(stripe_account=acct.id).v1.customers.create(params={"name": "Far away"})
    replica.admin.wait_deliveries(1, endpoint=endpoint.id)
    event = stripe.Webhook.construct_event(receiver.received[0][0],
                                           receiver.received[0][1]["Stripe-Signature"],
                                           endpoint.secret)
    assert event.account == acct.id
