"""End to end: the replica delivers its signed webhooks to the handler app over real HTTP,
concurrently and in no guaranteed order; afterwards the company DB agrees with the replica
on every object, field by field through mapping.yaml."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import stripe

from sandbox.replica.config import ReplicaConfig
from sandbox.replica.testing import running_replica
from sandbox.usersys.agreement import compare_with_stripe
from sandbox.usersys.app import HandlerAppConfig
from sandbox.usersys.models import Entitlement
from sandbox.usersys.server import running_handler
from tests.conftest import free_port

from .stripe_world import Db


def _drain(client: stripe.StripeClient, handler_state: Any, timeout: float = 20.0) -> int:
    """Wait until every replica event is in processed_webhooks; returns the event count."""
    deadline = time.monotonic() + timeout
    while True:
        events = client.v1.events.list(params={"limit": 100}).data
        if handler_state()["processed_webhooks"] >= len(events):
            return len(events)
        if time.monotonic() > deadline:
            raise AssertionError(f"{handler_state()} after {len(events)} events")
        time.sleep(0.05)


def _objects(client: stripe.StripeClient) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for service in (client.v1.customers, client.v1.subscriptions, client.v1.invoices,
                    client.v1.payment_intents, client.v1.refunds):
        params = {"limit": 100, **({"status": "all"} if service is client.v1.subscriptions
                                   else {})}
        found += [o.to_dict() for o in service.list(params=params).data]
    return found


@pytest.mark.parametrize("bugs", ["none", "FM-01"])
def test_replica_deliveries_processed_and_agree(tmp_path: Path, bugs: str) -> None:
    port = free_port()
    with running_replica(tmp_path / "replica.sqlite", config=ReplicaConfig(
            db_path=tmp_path / "replica.sqlite", webhook_retry_schedule=[0.2, 0.5])) as replica:
        client = replica.client()
        endpoint = client.v1.webhook_endpoints.create(params={
            "url": f"http://127.0.0.1:{port}/webhooks/stripe", "enabled_events": ["*"]})
        db_url = f"sqlite:///{tmp_path / 'company.db'}"
        config = HandlerAppConfig(database_url=db_url, webhook_secrets=[endpoint.secret],
                                  bugs=bugs)
        with running_handler(config, port=port) as handler:
            customer = client.v1.customers.create(params={"email": "ada@example.com"})
            product = client.v1.products.create(params={"name": "Pro"})
            price = client.v1.prices.create(params={
                "product": product.id, "unit_amount": 2000, "currency": "usd",
                "recurring": {"interval": "month"}, "lookup_key": "pro"})
            sub = client.v1.subscriptions.create(params={
                "customer": customer.id, "items": [{"price": price.id, "quantity": 2}],
                "default_payment_method": "pm_card_visa"})
            pi = client.v1.payment_intents.create(params={
                "amount": 1000, "currency": "jpy", "customer": customer.id,
                "payment_method": "pm_card_visa", "confirm": True,
                "metadata": {"feature": "credits"}})
            client.v1.customers.update(customer.id, params={"name": "Ada Lovelace"})
            if bugs == "FM-01":
                replica.admin.wait_deliveries(3, timeout=10)
                assert {d["status"] for d in replica.admin.deliveries()} == {400}
                assert handler.state()["processed_webhooks"] == 0
                return
            _drain(client, handler.state)
            entitled = Db(db_url)
            try:
                assert {(e.source_id, e.feature) for e in entitled.rows(
                    Entitlement, active=True)} == {(sub.id, "pro"), (pi.id, "credits")}
            finally:
                entitled.engine.dispose()
            client.v1.refunds.create(params={"payment_intent": pi.id})
            _drain(client, handler.state)
            objects = _objects(client)
            assert {o["object"] for o in objects} == {
                "customer", "subscription", "invoice", "payment_intent", "refund"}
            database = Db(db_url)
            try:
                with database.session() as session:
                    diffs = compare_with_stripe(
                        session, objects,
                        resolve=lambda oid: client.v1.charges.retrieve(oid).to_dict()
                        if oid.startswith("ch_") else None)
                assert diffs == []
                assert database.count(Entitlement, source_id=pi.id, active=True) == 0
                assert database.count(Entitlement, source_id=sub.id, active=True) == 1
            finally:
                database.engine.dispose()
