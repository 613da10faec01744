"""Lists Stripe serves per parent, end to end over HTTP against the replica: a payout's
balance transactions (``?payout=``, PAYOUT_BREAK) and a customer's cash-balance
transactions (compared with the company's bank_transfers rows)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy.orm import Session

from sandbox.usersys import models as um
from tests.conftest import REPO
from tools.recon.adapter import open_user_system
from tools.recon.mapping import load_mapping
from tools.recon.models import ReconRun, Verdict
from tools.recon.run import run_recon
from tools.recon.sync import Snapshot, run_sync
from tools.stripe import GatewayConfig, RateLimiterRegistry, StripeGateway

MAPPING = REPO / "sandbox" / "usersys" / "mapping.yaml"


def _gateway(replica) -> StripeGateway:
    return StripeGateway(
        GatewayConfig(api_base=replica.url, api_key=SecretStr(replica.api_key + "0" * 12),
                      expected_mode="test", rate_limit=1000.0),
        limiters=RateLimiterRegistry(), sleep=lambda s: None)


def _user_db(path: Path, rows: list[object] = ()) -> str:
    url = f"sqlite:///{path}"
    engine = um.make_engine(url)
    um.create_schema(engine)
    with Session(engine) as s, s.begin():
        for row in rows:  # in order: no relationships to sort inserts by
            s.add(row)
            s.flush()
    engine.dispose()
    return url


def _recon(snap: Snapshot, url: str) -> ReconRun:
    mapping = load_mapping(MAPPING)
    user = open_user_system(url, mapping)
    try:
        return run_recon(snapshot=snap, user=user, mapping=mapping)
    finally:
        user.engine.dispose()


def _payout(pid: str, amount: int, created: int, *, automatic: bool = True) -> dict:
    return {"id": pid, "object": "payout", "created": created, "livemode": False,
            "amount": amount, "currency": "eur", "status": "paid", "automatic": automatic}


def _txn(tid: str, payout: str, type_: str, amount: int, fee: int, created: int) -> dict:
    return {"id": tid, "object": "balance_transaction", "created": created, "livemode": False,
            "type": type_, "amount": amount, "fee": fee, "net": amount - fee,
            "currency": "eur", "status": "available", "_payout": payout}


def _seed_payouts(replica) -> int:
    now = replica.admin.now()
    replica.admin.bulk_insert([
        _payout("po_ok", 9_610, now - 500), _payout("po_short", 10_000, now - 400),
        _payout("po_manual", 4_000, now - 300, automatic=False),
        # po_ok: two charges net of fees and its own payout transaction
        _txn("txn_a", "po_ok", "charge", 5_000, 150, now - 900),
        _txn("txn_b", "po_ok", "charge", 5_000, 240, now - 800),
        _txn("txn_po_ok", "po_ok", "payout", -9_610, 0, now - 500),
        # po_short paid out 10 000, but what it swept nets 9 700
        _txn("txn_c", "po_short", "charge", 10_000, 300, now - 700),
        _txn("txn_po_short", "po_short", "payout", -10_000, 0, now - 400),
        _txn("txn_po_manual", "po_manual", "payout", -4_000, 0, now - 300),
        {"id": "evt_po_manual", "object": "event", "type": "payout.created",  # events cursor
         "created": now - 300, "livemode": False, "data": {"object": _payout(
             "po_manual", 4_000, now - 300, automatic=False)}},
    ])
    return now


def test_payout_whose_transactions_do_not_sum_is_a_payout_break(replica, tmp_path):
    _seed_payouts(replica)
    replica.admin.clear_requests()
    snap = Snapshot(tmp_path / "snap")
    report = run_sync(_gateway(replica), snap, types=["payout", "balance_transaction"])
    assert report.complete
    txns = snap.frame("balance_transaction")
    # automatic payouts only (a manual payout's list says nothing about what it paid out)
    assert sorted(txns["id"].to_list()) == ["txn_a", "txn_b", "txn_c", "txn_po_ok",
                                            "txn_po_short"]
    by_route = replica.admin.request_totals()["by_route"]
    # one list call per automatic payout, none for the manual one
    assert by_route["GET /v1/balance_transactions"] == 2, by_route
    run = _recon(snap, _user_db(tmp_path / "user.db"))
    assert [(d.class_.value, d.stripe_id) for d in run.discrepancies] == [
        ("PAYOUT_BREAK", "po_short")]
    assert run.discrepancies[0].evidence.stripe == ["po_short", "txn_c"]
    assert "10000 ≠ 9700" in run.discrepancies[0].reason
    assert run.verdict == Verdict.BREAKS


def test_new_payout_seen_through_events_gets_its_transactions(replica, tmp_path):
    now = _seed_payouts(replica)
    snap = Snapshot(tmp_path / "snap")
    gateway = _gateway(replica)
    assert run_sync(gateway, snap, types=["payout", "balance_transaction"]).complete
    payout = _payout("po_late", 700, now + 10)
    replica.admin.bulk_insert([
        payout, _txn("txn_d", "po_late", "charge", 1_000, 300, now),
        _txn("txn_po_late", "po_late", "payout", -700, 0, now + 10),
        {"id": "evt_po_late", "object": "event", "type": "payout.created",
         "created": now + 10, "livemode": False, "data": {"object": payout}}])
    again = run_sync(gateway, snap, types=["payout", "balance_transaction"])
    assert again.complete and again.mode == "incremental"
    ids = snap.frame("balance_transaction")["id"].to_list()
    assert len(ids) == len(set(ids)) == 7 and {"txn_d", "txn_po_late"} <= set(ids)
    assert _recon(snap, _user_db(tmp_path / "user.db")).counts == {"PAYOUT_BREAK": 1}


def test_interrupted_child_pass_resumes_after_the_last_parent_done(replica, tmp_path):
    _seed_payouts(replica)
    snap = Snapshot(tmp_path / "snap")
    gateway = _gateway(replica)
    assert run_sync(gateway, snap, types=["payout"]).complete
    stop = threading.Event()

    class StopAfterFirstParent:
        def start(self, name: str) -> None: ...
        def finish(self, name: str) -> None: ...

        def advance(self, name: str, n: int) -> None:
            stop.set()

    first = run_sync(gateway, snap, types=["balance_transaction"], stop=stop,
                     progress=StopAfterFirstParent())
    assert first.interrupted and not first.complete
    assert snap.checkpoint().types["balance_transaction"].slices[0].cursor == "po_ok"
    replica.admin.clear_requests()
    second = run_sync(gateway, snap, types=["balance_transaction"])
    assert second.complete
    listed = [e["query"] for e in replica.admin.request_totals(detail=True)["entries"]
              if e["path"] == "/v1/balance_transactions"]
    assert listed and all("po_ok" not in q and "po_short" in q for q in listed), listed
    ids = snap.frame("balance_transaction")["id"].to_list()
    assert sorted(ids) == ["txn_a", "txn_b", "txn_c", "txn_po_ok", "txn_po_short"]


def test_cash_balance_transactions_are_synced_and_compared_with_bank_transfers(
        replica, stripe_client, tmp_path):
    customer = stripe_client.v1.customers.create({"email": "ap@buyer.example"})
    for amount in (30_000, 12_500):
        stripe_client.v1.test_helpers.customers.fund_cash_balance(
            customer.id, {"amount": amount, "currency": "eur"})
    snap = Snapshot(tmp_path / "snap")
    assert run_sync(_gateway(replica), snap,
                    types=["customer", "customer_cash_balance_transaction"]).complete
    txns = snap.frame("customer_cash_balance_transaction")
    assert txns.height == 2
    data = {t: json.loads(d) for t, d in zip(txns["id"], txns["data"], strict=True)}
    by_amount = {obj["net_amount"]: tid for tid, obj in data.items()}
    first, second = by_amount[30_000], by_amount[12_500]
    account = um.Account(id=1, stripe_customer_id=customer.id, email="ap@buyer.example",
                         livemode=False)

    def row(tid: str, net: int) -> um.BankTransfer:
        obj = data[tid]
        return um.BankTransfer(
            account_id=1, stripe_transaction_id=tid, type=obj["type"], net_amount=net,
            ending_balance=obj["ending_balance"], currency=obj["currency"], livemode=False,
            occurred_at=datetime.fromtimestamp(obj["created"], UTC))

    # the company recorded the first funding with a wrong amount and never the second
    run = _recon(snap, _user_db(tmp_path / "user.db", [account, row(first, 29_000)]))
    # a funding the company never recorded is money received and applied to nothing
    assert ("UNAPPLIED_PAYMENT", second) in {(d.class_.value, d.stripe_id)
                                         for d in run.discrepancies}
    mismatch = [d for d in run.discrepancies if d.stripe_id == first]
    assert [d.class_.value for d in mismatch] == ["AMOUNT_MISMATCH.other"]
    assert mismatch[0].stripe_values["net_amount"] == 30_000
    assert mismatch[0].local_values["net_amount"] == 29_000
    assert len(run.discrepancies) == 2, [(d.class_.value, d.stripe_id, d.reason)
                                         for d in run.discrepancies]


def _metered(stripe_client):  # noqa: ANN001, ANN202
    meter = stripe_client.v1.billing.meters.create(params={
        "display_name": "API calls", "event_name": "api_calls",
        "default_aggregation": {"formula": "sum"}})
    price = stripe_client.v1.prices.create(params={
        "currency": "eur", "unit_amount": 2, "product_data": {"name": "API"},
        "recurring": {"interval": "month", "usage_type": "metered", "meter": meter.id}})
    customer = stripe_client.v1.customers.create({"email": "ops@metered.example"})
    pm = stripe_client.v1.payment_methods.attach("pm_card_visa", {"customer": customer.id})
    sub = stripe_client.v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": price.id}],
        "default_payment_method": pm.id})
    return meter, customer, sub


def test_meter_usage_is_synced_every_run_and_checked_against_usage_records(
        replica, stripe_client, tmp_path):
    """Meter events cannot be listed: what Stripe counted is synced as daily meter event
    summaries per metered subscription (listed again on every sync, since no event announces
    them) and compared with the company's usage_records. A report resent with a new
    identifier shows as the day Stripe counted more."""
    from tools.checks import Profile, run_checks
    from tools.checks.sources import build_context
    from tools.recon.sync.meter_usage import DAY, SETTLE_SECONDS

    meter, customer, sub = _metered(stripe_client)
    # the replica's clock runs two days ahead of ours, and no event marks its time: the sync
    # takes Stripe's "now" from the Date header of its answers
    replica.admin.advance_clock(2 * DAY)
    now = replica.admin.now()
    day = (now - SETTLE_SECONDS) // DAY * DAY - DAY  # yesterday: a complete, settled day
    sent = [("rep-1", 120, day + 3600), ("rep-2", 80, day + 7200)]
    for identifier, value, ts in [*sent, ("rep-2-retry", 80, day + 7200)]:
        stripe_client.v1.billing.meter_events.create(params={
            "event_name": "api_calls", "identifier": identifier, "timestamp": ts,
            "payload": {"stripe_customer_id": customer.id, "value": str(value)}})
    account = um.Account(id=1, stripe_customer_id=customer.id, email="ops@metered.example",
                         livemode=False)
    usage = [um.UsageRecord(account_id=1, stripe_subscription_id=sub.id, meter="api_calls",
                            quantity=value, identifier=identifier,
                            occurred_at=datetime.fromtimestamp(ts, UTC))
             for identifier, value, ts in sent]
    url = _user_db(tmp_path / "user.db", [account, *usage])
    types = ["customer", "subscription", "billing.meter", "billing.meter_event_summary"]
    snap = Snapshot(tmp_path / "snap")
    gateway = _gateway(replica)
    replica.admin.clear_requests()
    assert run_sync(gateway, snap, types=types).complete
    assert abs(gateway.server_time() - replica.admin.now()) <= 2
    by_route = replica.admin.request_totals()["by_route"]
    summary_calls = {r: n for r, n in by_route.items() if "event_summaries" in r}
    assert sum(summary_calls.values()) == 2, by_route  # complete days + today so far
    summaries = [json.loads(d) for d in snap.frame("billing.meter_event_summary")["data"]]
    assert [(s["start_time"], s["aggregated_value"], s["customer"], s["subscription"])
            for s in summaries if s["aggregated_value"]] == [(day, 280, customer.id, sub.id)]

    def findings() -> list:  # noqa: ANN202
        mapping = load_mapping(MAPPING)
        user = open_user_system(url, mapping)
        try:
            ctx = build_context(snapshot=snap, user=user, deliveries=None, profile=Profile(),
                                now=replica.admin.now())
            return [f for f in run_checks(ctx).findings
                    if f.check == "metering.usage_reconciliation"]
        finally:
            user.engine.dispose()

    [finding] = findings()
    assert finding.failure_mode == "FM-30" and finding.details["excess"] == "80"
    assert customer.id in finding.evidence and "rep-1" in finding.evidence
    assert "counted 280" in finding.summary and "usage records give 200" in finding.summary
    # 80 units too many at 2 euro cents each (the price's unit_amount, in minor units)
    assert (finding.details["amount"], finding.details["currency"]) == (160, "eur")
    assert "billed at 1.60 EUR" in finding.summary

    # no event announces usage: the next (incremental) sync lists the summaries again
    stripe_client.v1.billing.meter_events.create(params={
        "event_name": "api_calls", "identifier": "rep-3", "timestamp": day + 9000,
        "payload": {"stripe_customer_id": customer.id, "value": "5"}})
    again = run_sync(gateway, snap, types=types)
    assert again.complete and "billing.meter_event_summary" in again.full_types
    assert again.mode == "mixed"
    values = [json.loads(d)["aggregated_value"]
              for d in snap.frame("billing.meter_event_summary")["data"]]
    assert sorted(v for v in values if v) == [285]
    assert findings()[0].details["excess"] == "85"  # rep-3 was never recorded either
    assert findings()[0].details["amount"] == 170
