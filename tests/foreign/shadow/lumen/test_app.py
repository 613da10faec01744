"""Lumen's own checks, without any shadow tool.

Fast tests post small hand-built, signed events to the app (Starlette's TestClient, a fresh
PostgreSQL database per test) and show each variant's bug next to the correct behaviour.
The slow tests drive the Stripe replica through `scenario.drive`, read the events back and
deliver them to the real server process (in order, once; then shuffled, duplicated and half
in an older API version's shape) and check the state Lumen's support team would see.
"""

from __future__ import annotations

import copy
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import stripe
import yaml
from starlette.testclient import TestClient

from tests.conftest import free_port
from tests.foreign.shadow.lumen import app as lumen_app
from tests.foreign.shadow.lumen.app import SECRET_ENV, WEBHOOK_PATH, create_app
from tests.foreign.shadow.lumen.db import libpq_url
from tests.foreign.shadow.lumen.handlers import VARIANTS
from tests.foreign.shadow.lumen.migrate import migrate
from tests.foreign.shadow.lumen.scenario import drive

SECRET = "whsec_lumen_test_secret"
T0 = 1_800_000_000
DAY = 86400
REPO = Path(__file__).resolve().parents[4]

TABLES = ("studio_account", "stripe_product", "invoice_ledger", "storage_topup",
          "topup_dispute", "event_inbox")


# -- delivering ----------------------------------------------------------------------------
def signed_post(client: Any, event: dict[str, Any], *, secret: str = SECRET,
                timestamp: int | None = None) -> Any:
    body = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=timestamp)
    return client.post(WEBHOOK_PATH, content=body,
                       headers={"Stripe-Signature": header, "Content-Type": "application/json"})


class Lumen:
    """One migrated database; `run` empties it and plays events through one variant."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        migrate(db_url)

    def run(self, events: list[dict[str, Any]], variant: str = "correct",
            ) -> tuple[dict[str, Any], list[int]]:
        with psycopg.connect(libpq_url(self.db_url)) as conn:
            conn.execute("TRUNCATE " + ", ".join(TABLES))
        with TestClient(create_app(self.db_url, SECRET, variant)) as client:
            codes = [signed_post(client, event).status_code for event in events]
            return client.get("/internal/state").json(), codes


@pytest.fixture
def lumen(pg_url: str) -> Lumen:
    return Lumen(pg_url)


def account(state: dict[str, Any], customer: str) -> dict[str, Any]:
    return next(a for a in state["accounts"] if a["stripe_customer_id"] == customer)


# -- hand-built events (the fields Stripe sends that Lumen reads, in the 2026 shape) ------
_seq = iter(range(1, 1_000_000))


def event(type_: str, obj: dict[str, Any], created: int) -> dict[str, Any]:
    return {"id": f"evt_{next(_seq):06d}", "object": "event", "type": type_,
            "api_version": "2026-10-28.endive", "created": created,
            "data": {"object": obj}, "livemode": False}


def product(pid: str = "prod_pro", tier: str = "pro", created: int = T0) -> dict[str, Any]:
    return event("product.created", {"id": pid, "object": "product", "name": tier.title(),
                                     "metadata": {"tier_key": tier}}, created)


def subscription(type_: str, status: str, created: int, *, customer: str = "cus_a",
                 sub: str = "sub_a", product_id: str = "prod_pro", currency: str = "usd",
                 period_end: int | None = None) -> dict[str, Any]:
    item = {"id": "si_a", "object": "subscription_item",
            "price": {"id": "price_a", "product": product_id, "currency": currency},
            "current_period_start": created, "current_period_end": period_end or created + 30 * DAY}
    return event(type_, {"id": sub, "object": "subscription", "customer": customer,
                         "status": status, "currency": currency,
                         "items": {"object": "list", "data": [item]}}, created)


def invoice(type_: str, created: int, *, invoice_id: str = "in_a", customer: str = "cus_a",
            sub: str | None = "sub_a", amount: int = 2900, currency: str = "usd",
            reason: str = "subscription_create") -> dict[str, Any]:
    paid = type_ == "invoice.paid"
    obj = {"id": invoice_id, "object": "invoice", "customer": customer, "currency": currency,
           "amount_paid": amount if paid else 0, "amount_due": amount,
           "billing_reason": reason, "status": "paid" if paid else "open",
           "status_transitions": {"paid_at": created if paid else None},
           "parent": ({"type": "subscription_details",
                       "subscription_details": {"subscription": sub, "metadata": {}}}
                      if sub else None)}
    return event(type_, obj, created)


def payment_intent(type_: str, created: int, *, pi: str = "pi_t", customer: str = "cus_a",
                   gb: int | None = 100, amount: int = 1000, currency: str = "usd",
                   ) -> dict[str, Any]:
    status = {"payment_intent.processing": "processing",
              "payment_intent.succeeded": "succeeded",
              "payment_intent.payment_failed": "requires_payment_method"}[type_]
    return event(type_, {"id": pi, "object": "payment_intent", "customer": customer,
                         "amount": amount, "currency": currency, "status": status,
                         "latest_charge": "ch_" + pi[3:],
                         "metadata": {"topup_gb": str(gb)} if gb else {}}, created)


def charge_refunded(created: int, *, pi: str = "pi_t", customer: str = "cus_a",
                    gb: int = 100, amount: int = 1000) -> dict[str, Any]:
    return event("charge.refunded", {
        "id": "ch_" + pi[3:], "object": "charge", "customer": customer, "payment_intent": pi,
        "amount": amount, "amount_refunded": amount, "refunded": True, "currency": "usd",
        "metadata": {"topup_gb": str(gb)}}, created)


def dispute(type_: str, status: str, created: int, *, pi: str = "pi_t") -> dict[str, Any]:
    return event(type_, {"id": "dp_" + pi[3:], "object": "dispute", "charge": "ch_" + pi[3:],
                         "payment_intent": pi, "status": status, "reason": "fraudulent",
                         "amount": 1000, "currency": "usd"}, created)


def older_shape(evt: dict[str, Any]) -> dict[str, Any]:
    """The same event as an endpoint pinned to 2024-06-20 (pre-basil) would receive it."""
    evt = copy.deepcopy(evt)
    evt["api_version"] = "2024-06-20"
    obj = evt["data"]["object"]
    if obj.get("object") == "invoice":
        parent = obj.pop("parent", None) or {}
        obj["subscription"] = (parent.get("subscription_details") or {}).get("subscription")
    if obj.get("object") == "subscription":
        for item in obj["items"]["data"]:
            obj["current_period_start"] = item.pop("current_period_start", None)
            obj["current_period_end"] = item.pop("current_period_end", None)
    return evt


def signup(created: int = T0, **kw: Any) -> list[dict[str, Any]]:
    """What one subscriptions.create call emits: incomplete → paid → active, one second."""
    return [product(),
            subscription("customer.subscription.created", "incomplete", created, **kw),
            invoice("invoice.paid", created),
            subscription("customer.subscription.updated", "active", created, **kw)]


# -- the app itself ------------------------------------------------------------------------
def test_app_yaml_and_answer_key_cover_every_variant() -> None:
    here = Path(__file__).parent
    spec = yaml.safe_load((here / "app.yaml").read_text())
    key = yaml.safe_load((here / "answer_key.yaml").read_text())
    assert set(spec["variants"]) == set(VARIANTS)
    assert set(key["variants"]) == set(VARIANTS) - {"correct"}
    counts: dict[str, int] = {}
    for row in key["variants"].values():
        for fault in key["faults"]:
            counts[row[fault]] = counts.get(row[fault], 0) + 1
    assert counts == key["counts"]
    assert {key["correct"][fault] for fault in key["faults"]} == {"must_not_show"}


def test_rejects_unsigned_and_wrongly_signed_deliveries(lumen: Lumen) -> None:
    with TestClient(create_app(lumen.db_url, SECRET)) as client:
        body = json.dumps(product())
        assert client.post(WEBHOOK_PATH, content=body).status_code == 400
        assert signed_post(client, product(), secret="whsec_other").status_code == 400
        assert client.get("/healthz").json()["status"] == "ok"
        assert client.get("/internal/state").json()["accounts"] == []


def test_correct_app_builds_the_account_from_any_order(lumen: Lumen) -> None:
    events = signup() + [
        invoice("invoice.payment_failed", T0 + 30 * DAY, invoice_id="in_b"),
        subscription("customer.subscription.updated", "past_due", T0 + 30 * DAY),
        invoice("invoice.paid", T0 + 32 * DAY, invoice_id="in_b"),
        subscription("customer.subscription.updated", "active", T0 + 32 * DAY),
        subscription("customer.subscription.deleted", "canceled", T0 + 35 * DAY),
    ]
    expected, _ = lumen.run(events)
    acct = account(expected, "cus_a")
    assert (acct["plan_state"], acct["tier_key"], acct["quota_gb"]) == ("closed", "pro", 1000)
    for seed in range(2):
        shuffled = list(events)
        random.Random(seed).shuffle(shuffled)
        assert lumen.run(shuffled)[0] == expected


def test_trial_zero_invoice_keeps_trialing(lumen: Lumen) -> None:
    events = [product(), subscription("customer.subscription.created", "trialing", T0),
              invoice("invoice.paid", T0, amount=0)]
    state, _ = lumen.run(events)
    assert account(state, "cus_a")["plan_state"] == "trialing"
    assert state["invoice_ledger"][0]["amount_major"] == "0.00"


def test_correct_app_handles_refund_and_dispute_before_the_payment(lumen: Lumen) -> None:
    events = signup() + [
        dispute("charge.dispute.closed", "won", T0 + 3 * DAY, pi="pi_d"),
        charge_refunded(T0 + 2 * DAY, pi="pi_r", gb=200),
        dispute("charge.dispute.created", "needs_response", T0 + 2 * DAY, pi="pi_d"),
        payment_intent("payment_intent.succeeded", T0 + DAY, pi="pi_r", gb=200),
        payment_intent("payment_intent.succeeded", T0 + DAY, pi="pi_d", gb=50),
    ]
    state, _ = lumen.run(events)
    acct = account(state, "cus_a")
    assert (acct["topup_gb"], acct["quota_gb"], acct["suspended"]) == (50, 1050, False)
    assert {t["payment_intent_id"]: t["status"] for t in state["topups"]} == {
        "pi_d": "granted", "pi_r": "refunded"}


# -- one direct test per bug ---------------------------------------------------------------
def test_inbox_not_checked_books_a_redelivered_invoice_twice(lumen: Lumen) -> None:
    events = signup()
    events.append(events[2])  # invoice.paid again, same event id
    good, _ = lumen.run(events)
    bad, _ = lumen.run(events, "inbox_not_checked")
    assert len(good["invoice_ledger"]) == 1
    assert len(bad["invoice_ledger"]) == 2


def test_last_write_wins_lets_an_old_snapshot_overwrite_a_newer_one(lumen: Lumen) -> None:
    events = signup()
    events = [events[0], events[2], events[3], events[1]]  # created(incomplete) arrives last
    good, _ = lumen.run(events)
    bad, _ = lumen.run(events, "last_write_wins")
    assert account(good, "cus_a")["plan_state"] == "ok"
    assert account(bad, "cus_a")["plan_state"] == "payment_issue"
    # …and a closed account is reopened by a late update
    closing = signup() + [
        subscription("customer.subscription.deleted", "canceled", T0 + 9 * DAY),
        subscription("customer.subscription.updated", "past_due", T0 + 5 * DAY)]
    assert account(lumen.run(closing)[0], "cus_a")["plan_state"] == "closed"
    assert account(lumen.run(closing, "last_write_wins")[0], "cus_a")["plan_state"] == (
        "payment_issue")


def test_grant_on_processing_keeps_gigabytes_of_a_failed_debit(lumen: Lumen) -> None:
    events = signup() + [
        payment_intent("payment_intent.processing", T0 + DAY, gb=200),
        payment_intent("payment_intent.payment_failed", T0 + 5 * DAY, gb=200)]
    good, _ = lumen.run(events)
    bad, _ = lumen.run(events, "grant_on_processing")
    assert account(good, "cus_a")["quota_gb"] == 1000
    assert account(bad, "cus_a")["quota_gb"] == 1200
    # a debit still processing grants nothing in the correct app
    pending, _ = lumen.run(events[:-1])
    assert account(pending, "cus_a")["quota_gb"] == 1000


def test_yen_divided_by_100_shrinks_jpy_amounts(lumen: Lumen) -> None:
    events = [invoice("invoice.paid", T0, invoice_id="in_jpy", amount=980, currency="jpy",
                      customer="cus_j", sub="sub_j"),
              invoice("invoice.paid", T0, invoice_id="in_usd", amount=2900)]
    good, _ = lumen.run(events)
    bad, _ = lumen.run(events, "yen_divided_by_100")
    majors = {r["stripe_invoice_id"]: r["amount_major"] for r in good["invoice_ledger"]}
    assert majors == {"in_jpy": "980", "in_usd": "29.00"}
    majors = {r["stripe_invoice_id"]: r["amount_major"] for r in bad["invoice_ledger"]}
    assert majors == {"in_jpy": "9.80", "in_usd": "29.00"}
    assert {r["amount_minor"] for r in bad["invoice_ledger"]} == {980, 2900}


def test_newest_shape_only_loses_subscription_links_in_older_payloads(lumen: Lumen) -> None:
    events = [older_shape(e) for e in signup()] + [
        older_shape(invoice("invoice.payment_failed", T0 + 30 * DAY, invoice_id="in_b"))]
    good, _ = lumen.run(events)
    bad, _ = lumen.run(events, "newest_shape_only")
    assert good["invoice_ledger"][0]["stripe_subscription_id"] == "sub_a"
    assert account(good, "cus_a")["paid_through"] is not None
    assert account(good, "cus_a")["plan_state"] == "payment_issue"
    assert good == lumen.run(signup() + [invoice("invoice.payment_failed", T0 + 30 * DAY,
                                                 invoice_id="in_b")])[0]
    assert bad["invoice_ledger"][0]["stripe_subscription_id"] is None
    assert account(bad, "cus_a")["paid_through"] is None
    assert account(bad, "cus_a")["plan_state"] == "ok"


def test_refund_ignored_keeps_refunded_gigabytes(lumen: Lumen) -> None:
    events = signup() + [payment_intent("payment_intent.succeeded", T0 + DAY, gb=200),
                         charge_refunded(T0 + 2 * DAY, gb=200)]
    good, _ = lumen.run(events)
    bad, _ = lumen.run(events, "refund_ignored")
    assert account(good, "cus_a")["quota_gb"] == 1000
    assert account(bad, "cus_a")["quota_gb"] == 1200


def test_dispute_ignored_never_suspends(lumen: Lumen) -> None:
    opened = signup() + [payment_intent("payment_intent.succeeded", T0 + DAY),
                         dispute("charge.dispute.created", "needs_response", T0 + 2 * DAY)]
    assert account(lumen.run(opened)[0], "cus_a")["suspended"] is True
    assert account(lumen.run(opened, "dispute_ignored")[0], "cus_a")["suspended"] is False
    won = opened + [dispute("charge.dispute.closed", "won", T0 + 9 * DAY)]
    assert account(lumen.run(won)[0], "cus_a")["suspended"] is False
    lost = opened + [dispute("charge.dispute.closed", "lost", T0 + 9 * DAY)]
    assert account(lumen.run(lost)[0], "cus_a")["suspended"] is True


def test_slow_receipt_answers_jpy_renewals_late(lumen: Lumen,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    assert lumen_app.RECEIPT_SECONDS["jpy"] > 10  # longer than Stripe waits for an answer
    monkeypatch.setitem(lumen_app.RECEIPT_SECONDS, "jpy", 1.5)
    renewal = invoice("invoice.paid", T0 + 30 * DAY, amount=980, currency="jpy",
                      reason="subscription_cycle")
    timings = {}
    for variant in ("correct", "slow_receipt"):
        with TestClient(create_app(lumen.db_url, SECRET, variant)) as client:
            renewal = dict(renewal, id=f"evt_renewal_{variant}")
            started = time.monotonic()
            assert signed_post(client, renewal).status_code == 200
            timings[variant] = time.monotonic() - started
    assert timings["slow_receipt"] >= 1.5
    assert timings["correct"] < 1.5


def test_tight_signature_window_rejects_a_two_minute_old_signature(lumen: Lumen) -> None:
    two_minutes_ago = int(time.time()) - 120
    for variant, status in (("correct", 200), ("tight_signature_window", 400)):
        with TestClient(create_app(lumen.db_url, SECRET, variant)) as client:
            answer = signed_post(client, product(), timestamp=two_minutes_ago)
            assert answer.status_code == status, variant


# -- the scenario, end to end (slow) -------------------------------------------------------
@pytest.fixture
def corpus(replica) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Events of the scenario in creation order, and customer id → studio handle."""
    client = replica.client()
    drive(client, seed=11, advance_clock=replica.admin.advance_clock)
    events = [e.to_dict() for e in client.v1.events.list(params={"limit": 100})
              .auto_paging_iter()]
    events.reverse()
    handles = {c.id: c.metadata["studio_handle"]
               for c in client.v1.customers.list(params={"limit": 100}).auto_paging_iter()}
    return json.loads(json.dumps(events, default=str)), handles


@pytest.fixture
def server(pg_url: str) -> Iterator[Callable[[list[dict[str, Any]]], dict[str, Any]]]:
    """The real server process, started the way app.yaml says."""
    subprocess.run([sys.executable, "-m", "tests.foreign.shadow.lumen.migrate", "--db", pg_url],
                   cwd=REPO, check=True)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.foreign.shadow.lumen.server", "--port", str(port),
         "--db", pg_url, "--variant", "correct"],
        cwd=REPO, env={**os.environ, SECRET_ENV: SECRET})
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if http.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None and time.monotonic() < deadline, "server not up"
                time.sleep(0.2)

            def deliver(events: list[dict[str, Any]]) -> dict[str, Any]:
                for evt in events:
                    assert signed_post(http, evt).status_code == 200
                return http.get("/internal/state").json()

            yield deliver
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.slow
def test_scenario_in_order_gives_the_expected_state(corpus, server) -> None:
    events, handles = corpus
    state = server(events)
    by_handle = {handles[a["stripe_customer_id"]]: a for a in state["accounts"]}
    assert set(by_handle) == {"aiko", "ben", "chika", "dana", "emi", "finn", "gus", "hana"}
    summary = {h: (a["tier_key"], a["plan_state"], a["billing_currency"], a["suspended"])
               for h, a in by_handle.items()}
    assert summary == {
        "aiko": ("pro", "ok", "jpy", False),
        "ben": ("pro", "ok", "usd", False),
        "chika": ("starter", "closed", "jpy", False),
        "dana": ("pro", "ok", "usd", False),
        "emi": ("studio", "ok", "jpy", False),
        "finn": ("starter", "closed", "usd", False),
        "gus": ("pro", "ok", "usd", False),
        "hana": ("starter", "ok", "jpy", True),
    }
    topups = {handles[t["stripe_customer_id"]]: t for t in state["topups"]}
    assert {h: t["status"] for h, t in topups.items()} == {
        "aiko": "granted", "ben": "granted", "dana": "failed", "emi": "refunded",
        "gus": "granted", "hana": "granted"}
    tier_quota = {"starter": 100, "pro": 1000, "studio": 5000}
    for handle, acct in by_handle.items():
        granted = topups[handle]["gb"] if topups.get(handle, {}).get("status") == "granted" else 0
        assert acct["quota_gb"] == tier_quota[acct["tier_key"]] + granted, handle
    ledger = [(handles[r["stripe_customer_id"]], r["billing_reason"], r["currency"],
               r["amount_minor"], r["amount_major"]) for r in state["invoice_ledger"]]
    assert sorted(ledger) == sorted([
        ("aiko", "subscription_create", "jpy", 980, "980"),
        ("aiko", "subscription_cycle", "jpy", 2980, "2980"),
        ("ben", "subscription_create", "usd", 0, "0.00"),
        ("ben", "subscription_cycle", "usd", 2900, "29.00"),
        ("chika", "subscription_create", "jpy", 0, "0"),
        ("dana", "subscription_create", "usd", 2900, "29.00"),
        ("dana", "subscription_cycle", "usd", 2900, "29.00"),
        ("emi", "subscription_create", "jpy", 9800, "9800"),
        ("emi", "subscription_cycle", "jpy", 9800, "9800"),
        ("finn", "subscription_create", "usd", 900, "9.00"),
        ("finn", "subscription_cycle", "usd", 900, "9.00"),
        ("gus", "subscription_create", "usd", 2900, "29.00"),
        ("gus", "subscription_cycle", "usd", 2900, "29.00"),
        ("hana", "subscription_create", "jpy", 980, "980"),
        ("hana", "subscription_cycle", "jpy", 980, "980"),
    ])
    assert len(events) < 400


@pytest.mark.slow
def test_scenario_state_does_not_depend_on_delivery(corpus, lumen: Lumen) -> None:
    """Shuffled, half redelivered, half in the pre-basil shape: the same state as in order."""
    events, _ = corpus
    expected, _ = lumen.run(events)
    rng = random.Random(5)
    messy = [older_shape(e) if rng.random() < 0.5 else e for e in events]
    messy += [e for e in events if rng.random() < 0.3]
    rng.shuffle(messy)
    state, codes = lumen.run(messy)
    assert set(codes) == {200}
    assert state == expected
