"""The webhook app over real HTTP: signatures, duplicates, ordering, failures, FM-01."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from sandbox.usersys.models import Account, Entitlement, ProcessedWebhook, Subscription

from .stripe_world import SECRET, body_of, sign


def test_signed_delivery_is_verified_and_applied(start_app, world) -> None:
    app = start_app()
    customer = world.customer("ada@example.com")
    response = app.post(world.event("customer.created", customer))
    assert response.status_code == 200
    assert response.json()["status"] == "applied"
    row = app.db.one(Account, stripe_customer_id=customer["id"])
    assert row.email == "ada@example.com"
    assert app.db.count(ProcessedWebhook) == 1


def test_tampered_body_is_rejected_and_nothing_written(start_app, world) -> None:
    app = start_app()
    event = world.event("customer.created", world.customer("eve@example.com"))
    body = body_of(event)
    header = sign(body)
    tampered = body.replace("eve@example.com", "mallory@example.com")
    assert app.post(event, body=tampered, header=header).status_code == 400
    assert app.post(event, header="t=1,v1=deadbeef").status_code == 400
    assert app.post(event, header="").status_code == 400
    assert app.post(event, secret="whsec_wrong").status_code == 400
    stale = sign(body, timestamp=int(time.time()) - 3600)
    assert app.post(event, body=body, header=stale).status_code == 400
    assert app.handle.state()["accounts"] == 0
    assert app.handle.state()["processed_webhooks"] == 0


def test_any_configured_secret_verifies_during_rotation(start_app, world) -> None:
    app = start_app(secrets=["whsec_old", SECRET])
    assert app.post(world.event("customer.created", world.customer()), secret="whsec_old"
                    ).status_code == 200
    assert app.post(world.event("customer.created", world.customer()), secret=SECRET
                    ).status_code == 200
    # Stripe sends one v1 per active secret while rolling; any may match.
    event = world.event("customer.created", world.customer())
    body = body_of(event)
    t = int(time.time())
    header = sign(body, "whsec_unknown", t) + "," + sign(body, SECRET, t).split(",")[1]
    assert app.post(event, body=body, header=header).status_code == 200
    assert app.db.count(Account) == 3


def test_duplicate_delivery_is_applied_once(start_app, world) -> None:
    app = start_app()
    customer = world.customer()
    app.post(world.event("customer.created", customer))
    pi = world.payment_intent(customer)
    session = world.checkout_session(customer, pi, feature="onboarding")
    event = world.event("checkout.session.completed", session)
    first, second = app.post(event), app.post(event)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["status"] == "duplicate"
    assert app.db.count(Entitlement, source_id=session["id"]) == 1
    assert app.db.count(ProcessedWebhook, event_id=event["id"]) == 1


def test_out_of_order_deliveries_end_in_the_newest_state(start_app, world) -> None:
    app = start_app()
    customer = world.customer()
    sub = world.subscription(customer, status="incomplete")
    created = world.event("customer.subscription.created", sub)
    world.clock += 60
    active = world.event("customer.subscription.updated", world.change(sub, status="active"))
    world.clock += 30 * 86_400
    canceled = world.event("customer.subscription.deleted",
                           world.change(sub, status="canceled", canceled_at=world.clock))
    for event in (canceled, created, active):
        assert app.post(event).status_code == 200
    row = app.db.one(Subscription, stripe_subscription_id=sub["id"])
    assert row.status == "canceled"
    assert app.db.count(Entitlement, active=True) == 0
    outcomes = {e.event_id: e.outcome for e in app.db.rows(ProcessedWebhook)}
    assert outcomes == {canceled["id"]: "applied", created["id"]: "stale", active["id"]: "stale"}


def test_handler_failure_answers_500_and_writes_nothing(start_app, world) -> None:
    app = start_app(bugs="FM-06")
    invoice = world.invoice(world.customer())
    response = app.post(world.event("invoice.created", invoice))
    assert response.status_code == 500
    assert app.handle.state()["invoices"] == 0
    assert app.handle.state()["processed_webhooks"] == 0


def test_unknown_event_types_are_acknowledged(start_app, world) -> None:
    app = start_app()
    event = world.event("product.created", {"id": "prod_1", "object": "product"})
    response = app.post(event)
    assert response.status_code == 200 and response.json()["status"] == "ignored"


def test_fm01_reserialised_body_fails_every_real_delivery(start_app, world) -> None:
    buggy, correct = start_app(bugs="FM-01"), start_app()
    event = world.event("customer.created", world.customer())
    assert correct.post(event).status_code == 200
    assert buggy.post(event).status_code == 400
    assert buggy.handle.state()["accounts"] == 0
    # Only a body that happens to be byte-identical to json.dumps(parsed) would pass.
    compact = json.dumps(event)
    assert buggy.post(event, body=compact, header=sign(compact)).status_code == 200


def test_state_counts_every_table(start_app, world) -> None:
    app = start_app()
    app.post(world.event("customer.created", world.customer()))
    state = httpx.get(app.handle.url + "/state").json()
    assert state["accounts"] == 1 and state["processed_webhooks"] == 1
    assert {"subscriptions", "invoices", "payments", "refunds", "entitlements",
            "usage_records"} <= set(state)


@pytest.mark.postgres
def test_app_on_postgres(start_app, world, pg_url) -> None:
    app = start_app(database_url=pg_url)
    customer = world.customer()
    pi = world.payment_intent(customer, amount=1000, currency="jpy", feature="credits")
    events = [world.event("customer.created", customer),
              world.event("payment_intent.succeeded", pi)]
    for event in events + events:
        assert app.post(event).status_code == 200
    assert app.db.count(Entitlement, source_id=pi["id"], active=True) == 1
    assert app.db.rows(ProcessedWebhook)[0].event_id in {e["id"] for e in events}
