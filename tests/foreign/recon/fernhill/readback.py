"""Read Fernhill's tables back against Stripe, the way the tests check the generator.

This is the generator's own reading of its world, by Fernhill's rules (schema.sql): every
row of an open member points at a Stripe object that exists and says the same thing after
translating status words and units, every object Fernhill should record has a row, access
matches what Stripe says was paid for, and every Stripe event is in the handler's log.
It returns *where* rows and objects disagree (not why), so a test can compare that with
the answer key.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import stripe
from sqlalchemy import text
from sqlalchemy.engine import Connection

from tests.foreign.recon.fernhill import fernhill as fh

Obj = dict[str, Any]


@dataclass
class Reading:
    rows: dict[tuple[str, int], list[str]] = field(default_factory=lambda: defaultdict(list))
    unrecorded: dict[str, str] = field(default_factory=dict)     # stripe id -> what
    unlogged: list[Obj] = field(default_factory=list)             # events not in the log
    notes: list[str] = field(default_factory=list)

    def row(self, table: str, row_id: int, why: str) -> None:
        self.rows[(table, int(row_id))].append(why)

    @property
    def clean(self) -> bool:
        return not self.rows and not self.unrecorded and not self.unlogged


def _d(obj: Any) -> Obj:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _get(fetch: Any, object_id: str) -> Obj | None:
    try:
        found = _d(fetch(object_id))
    except stripe.InvalidRequestError:
        return None
    return None if found.get("deleted") else found


def _all(listing: Any) -> list[Obj]:
    return [_d(x) for x in listing.auto_paging_iter()]


def read(conn: Connection, client: stripe.StripeClient) -> Reading:  # noqa: C901
    out = Reading()
    v1 = client.v1
    q = lambda sql, **p: list(conn.execute(text(sql), p))  # noqa: E731

    members = q("SELECT id, stripe_ref, closed FROM members ORDER BY id")
    open_members = {m.id for m in members if not m.closed}
    member_of: dict[str, int] = {}
    for m in members:
        if m.closed or not m.stripe_ref:
            continue
        if _get(v1.customers.retrieve, m.stripe_ref) is None:
            out.row("members", m.id, f"customer {m.stripe_ref} does not exist")
        member_of.setdefault(m.stripe_ref, m.id)

    # -- subscriptions
    subs: dict[str, Obj] = {}
    for customer in member_of:
        try:
            listed = _all(v1.subscriptions.list(params={"customer": customer, "status": "all",
                                                        "limit": 100}))
        except stripe.InvalidRequestError:
            continue
        subs.update({s["id"]: s for s in listed})
    memberships = q("SELECT * FROM memberships ORDER BY id")
    seen_subs = set()
    for ms in memberships:
        if ms.member_id not in open_members:
            continue
        seen_subs.add(ms.stripe_subscription)
        sub = subs.get(ms.stripe_subscription) or _get(v1.subscriptions.retrieve,
                                                       ms.stripe_subscription)
        if sub is not None:
            subs[sub["id"]] = sub
        if sub is None:
            out.row("memberships", ms.id, f"subscription {ms.stripe_subscription} missing")
            continue
        expected = fh.SUB_STATE[sub["status"]]
        if ms.state != expected:
            out.row("memberships", ms.id, f"state {ms.state} != {expected}")
        if ms.plan_code != fh.plan_code_of(fh.sub_price(sub)):
            out.row("memberships", ms.id, "plan_code")
        end = fh.sub_period_end(sub)
        if end and ms.renews_on != fh.day(end):
            out.row("memberships", ms.id, f"renews_on {ms.renews_on} != {fh.day(end)}")
    for sub_id, sub in subs.items():
        if sub_id not in seen_subs and sub["customer"] in member_of:
            out.unrecorded[sub_id] = "subscription"

    # -- invoices and bills
    invoices: dict[str, Obj] = {}
    for customer in member_of:
        try:
            listed = _all(v1.invoices.list(params={"customer": customer, "limit": 100}))
        except stripe.InvalidRequestError:
            continue
        invoices.update({i["id"]: i for i in listed})
    bills = q("SELECT * FROM bills ORDER BY id")
    payments: dict[int, list[Any]] = defaultdict(list)
    for p in q("SELECT * FROM bill_payments ORDER BY id"):
        payments[p.bill_id].append(p)
    seen_invoices = set()
    for bill in bills:
        if bill.member_id not in open_members:
            continue
        seen_invoices.add(bill.stripe_invoice)
        inv = invoices.get(bill.stripe_invoice) or _get(v1.invoices.retrieve,
                                                        bill.stripe_invoice)
        if inv is None:
            out.row("bills", bill.id, f"invoice {bill.stripe_invoice} missing")
            continue
        ccy = inv["currency"].upper()
        if bill.state != fh.BILL_STATE.get(inv["status"]):
            out.row("bills", bill.id, f"state {bill.state} vs {inv['status']}")
        if Decimal(bill.total) != fh.to_major(inv["total"], ccy):
            out.row("bills", bill.id, f"total {bill.total} vs {inv['total']} {ccy}")
        if bill.ccy != ccy or (inv.get("number") and bill.number != inv["number"]):
            out.row("bills", bill.id, "ccy/number")
        paid = fh.to_major(inv.get("amount_paid") or 0, ccy) if inv["status"] == "paid" \
            else Decimal("0.00")
        rows = payments.get(bill.id, [])
        applied = sum((Decimal(p.amount) for p in rows), Decimal("0.00"))
        if applied < paid:
            out.row("bills", bill.id, f"applied {applied} < paid {paid}")
        elif applied > paid:
            running = Decimal("0.00")
            for p in rows:
                running += Decimal(p.amount)
                if running > paid:
                    out.row("bill_payments", p.id, f"applied beyond {paid}")
    for inv_id, inv in invoices.items():
        if (inv["status"] != "draft" and inv_id not in seen_invoices
                and inv["customer"] in member_of):
            out.unrecorded[inv_id] = "invoice"

    # -- course packs
    intents = {p["id"]: p for p in _all(v1.payment_intents.list(params={"limit": 100}))}
    orders = q("SELECT * FROM pack_orders ORDER BY id")
    by_pi: dict[str, list[Any]] = defaultdict(list)
    for order in orders:
        if order.member_id in open_members:
            by_pi[order.stripe_payment].append(order)
    refunded: dict[str, tuple[int, int]] = {}
    disputed: set[str] = set()
    try:
        for dispute in _all(v1.disputes.list(params={"limit": 100})):
            charge = _get(v1.charges.retrieve, dispute["charge"])
            if charge and charge.get("payment_intent"):
                disputed.add(charge["payment_intent"])
    except (stripe.InvalidRequestError, stripe.APIError):
        pass
    for pi_id, rows in by_pi.items():
        pi = intents.get(pi_id) or _get(v1.payment_intents.retrieve, pi_id)
        if pi is None:
            for order in rows:
                out.row("pack_orders", order.id, f"payment_intent {pi_id} missing")
            continue
        charge = fh.charge_of(pi)
        if charge is None and pi.get("latest_charge"):
            charge = _get(v1.charges.retrieve, pi["latest_charge"])
        amount_refunded = (charge or {}).get("amount_refunded") or 0
        refunded[pi_id] = (pi["amount"], amount_refunded)
        expected = fh.pack_status(pi["status"], pi["amount"], amount_refunded)
        for n, order in enumerate(rows):
            if n:
                out.row("pack_orders", order.id, "second row for one PaymentIntent")
                continue
            if order.status != expected:
                out.row("pack_orders", order.id, f"status {order.status} != {expected}")
            if Decimal(order.price) != fh.to_major(pi["amount"], pi["currency"]):
                out.row("pack_orders", order.id, f"price {order.price} vs {pi['amount']}")
            if order.pack_code != (pi.get("metadata") or {}).get("pack_code"):
                out.row("pack_orders", order.id, "pack_code")
    for pi_id, pi in intents.items():
        meta = pi.get("metadata") or {}
        if (meta.get("kind") == "course_pack" and pi.get("customer") in member_of
                and pi_id not in by_pi):
            out.unrecorded[pi_id] = "payment_intent"

    # -- access: what Stripe says each open paying member has paid for
    expected_access: dict[int, set[str]] = defaultdict(set)
    for sub in subs.values():
        member = member_of.get(sub["customer"])
        if member and fh.SUB_STATE[sub["status"]] in fh.GRANTING:
            expected_access[member].update(fh.features_of(fh.sub_price(sub)))
    for pi in intents.values():
        meta = pi.get("metadata") or {}
        member = member_of.get(pi.get("customer") or "")
        if not member or meta.get("kind") != "course_pack" or pi["status"] != "succeeded":
            continue
        amount, back = refunded.get(pi["id"], (pi["amount"], 0))
        if back >= amount or pi["id"] in disputed:
            continue
        expected_access[member].add(f"pack:{meta['pack_code']}")
    active: dict[tuple[int, str], list[int]] = defaultdict(list)
    for row in q("SELECT id, member_id, feature FROM course_access WHERE revoked_at IS NULL "
                 "ORDER BY id"):
        if row.member_id in open_members:
            active[(row.member_id, row.feature)].append(row.id)
    for (member, feature), ids in active.items():
        if feature not in expected_access.get(member, set()):
            for row_id in ids:
                out.row("course_access", row_id, f"{feature} granted, nothing paid behind it")
        for row_id in ids[1:]:
            out.row("course_access", row_id, "granted twice")
    for member, features in expected_access.items():
        for feature in features:
            if (member, feature) not in active:
                out.notes.append(f"member {member} lacks {feature}")

    # -- the handler's log
    logged = {r.event_id for r in q("SELECT DISTINCT event_id FROM stripe_events_seen")}
    for event in _all(v1.events.list(params={"limit": 100})):
        if event["id"] not in logged:
            out.unlogged.append(event)
    return out


def key_rows(key: Obj) -> set[tuple[str, int]]:
    """(table, row id) the key says differ (rows that exist and are wrong)."""
    rows: set[tuple[str, int]] = set()
    for entry in key["planted"]:
        if entry["class"] in ("DUPLICATE_REMOTE", "WEBHOOK_GAP", "MISSING_LOCAL"):
            continue
        local = entry["local"]
        if local and local.get("key"):
            for part in str(local["key"]).split(","):
                rows.add((local["table"], int(part)))
    return rows


def key_unrecorded(key: Obj) -> set[str]:
    return {e["stripe_id"] for e in key["planted"]
            if e["class"] in ("DUPLICATE_REMOTE", "MISSING_LOCAL")}


def key_gap_events(key: Obj) -> set[str]:
    return {ev for e in key["planted"] if e["class"] == "WEBHOOK_GAP" for ev in e["events"]}
