"""Fernhill Languages' own billing code: the parts that touch Stripe.

What their engineers wrote (Python rewrite of a Rails app): the money helpers, the status
words, the catalogue, the webhook handler that keeps the tables in `schema.sql` in step
with Stripe, and the nightly `resync` job they use where webhooks are not enough.

The handler processes one event at a time and writes what the event's snapshot says
(`event.data.object`); it does not re-fetch objects. It is correct when events arrive once
and in order; the generator's incidents (lost, repeated, late deliveries and a few buggy
releases recorded in `Release`) are what make the database drift from Stripe.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

Obj = dict[str, Any]
UTC = dt.UTC
HERE = Path(__file__).resolve().parent

# -- money ---------------------------------------------------------------------------------
ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG",
                          "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"})
CENT = Decimal("0.01")


def exponent(ccy: str) -> int:
    return 0 if ccy.upper() in ZERO_DECIMAL else 2


def to_major(amount: int, ccy: str) -> Decimal:
    """Stripe minor units -> the NUMERIC(12,2) major units the tables hold."""
    return (Decimal(int(amount)) / (10 ** exponent(ccy))).quantize(CENT)


def to_minor(major: Decimal | str, ccy: str) -> int:
    return int((Decimal(major) * (10 ** exponent(ccy))).to_integral_value())


def to_major_float_rounddown(amount: int, ccy: str) -> Decimal:
    """The 2026.01.3 hotfix's helper: float division, then ROUND_DOWN to cents.

    19.9 is 19.89999... as a float, so 1990 became 19.89 (and 1690 16.89, 3990 39.89)."""
    return Decimal(amount / 10 ** exponent(ccy)).quantize(CENT, rounding=ROUND_DOWN)


def to_major_legacy_two_decimals(amount: int, ccy: str) -> Decimal:
    """The Rails `MoneyHelper#stripe_to_major` port (release 2026.02.1): it assumed two
    decimals everywhere and scaled yen up to 'cents' first; the port dropped the /100 for
    the zero-decimal branch, so 2,900 JPY was written as 290000.00."""
    if ccy.upper() in ZERO_DECIMAL:
        return (Decimal(int(amount)) * 100).quantize(CENT)
    return to_major(amount, ccy)


# -- status words --------------------------------------------------------------------------
SUB_STATE = {
    "trialing": "trialling",
    "active": "live",
    "past_due": "grace",
    "paused": "on_hold",
    "canceled": "lapsed",
    "unpaid": "lapsed",
    "incomplete_expired": "lapsed",
    "incomplete": "pending",
}
GRANTING = frozenset({"trialling", "live", "grace"})
BILL_STATE = {"open": "due", "paid": "settled", "void": "cancelled",
              "uncollectible": "bad_debt", "draft": "due"}
WAITING = frozenset({"processing", "requires_action", "requires_payment_method",
                     "requires_confirmation", "requires_capture"})

# -- catalogue -----------------------------------------------------------------------------
PLANS: dict[str, Obj] = {
    "starter": {"name": "Fernhill Starter", "features": "self_study,library",
                "month": {"EUR": "9.90", "GBP": "8.90", "JPY": "1500"},
                "year": {"EUR": "99.00", "GBP": "89.00", "JPY": "15000"}},
    "plus": {"name": "Fernhill Plus", "features": "self_study,library,live_classes",
             "month": {"EUR": "19.90", "GBP": "16.90", "JPY": "2900"},
             "year": {"EUR": "199.00", "GBP": "169.00", "JPY": "29000"}},
    "tutor_pro": {"name": "Fernhill Tutor Pro",
                  "features": "self_study,library,live_classes,tutor_sessions",
                  "month": {"EUR": "39.90", "GBP": "34.90", "JPY": "5900"},
                  "year": {"EUR": "399.00", "GBP": "349.00", "JPY": "59000"}},
}
PACKS: dict[str, Obj] = {
    "BUSINESS_EN": {"name": "Business English pack",
                    "price": {"EUR": "49.00", "GBP": "42.00", "JPY": "7500"}},
    "JLPT_N3": {"name": "JLPT N3 drills",
                "price": {"EUR": "29.00", "GBP": "25.00", "JPY": "4400"}},
    "DELE_B2": {"name": "DELE B2 exam prep",
                "price": {"EUR": "39.00", "GBP": "34.00", "JPY": "5900"}},
}


def lookup_key(plan_code: str, interval: str, ccy: str) -> str:
    return f"{plan_code}_{interval}ly_{ccy.lower()}"


# -- time formats --------------------------------------------------------------------------
def utc(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, UTC)


def iso_z(ts: float) -> str:
    """memberships.updated: 2026-03-04T10:15:02Z"""
    return utc(int(ts)).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_offset(ts: float) -> str:
    """bills.issued, bill_payments.applied_at, pack_orders.updated: Python isoformat."""
    return utc(int(ts)).isoformat()


def iso_ms_z(ts: float) -> str:
    """stripe_events_seen.received: 2026-03-04T10:15:02.137Z"""
    moment = utc(ts)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def day(ts: float) -> str:
    """memberships.renews_on: 2026-04-04 (UTC date)."""
    return utc(int(ts)).date().isoformat()


def parse_iso(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


# -- reading Stripe shapes (current API on the replica, 2017-era on localstripe) ------------
def sub_price(sub: Obj) -> Obj:
    item = sub["items"]["data"][0]
    return item.get("price") or item.get("plan") or {}


def sub_period_end(sub: Obj) -> int | None:
    item = sub["items"]["data"][0]
    return item.get("current_period_end") or sub.get("current_period_end")


def plan_code_of(price: Obj) -> str:
    code = (price.get("metadata") or {}).get("plan_code")
    if code:
        return code
    key = price.get("lookup_key") or price.get("id") or ""
    return key.split("_monthly_")[0].split("_yearly_")[0]


def features_of(price: Obj) -> list[str]:
    raw = (price.get("metadata") or {}).get("features") or ""
    return [f.strip() for f in raw.split(",") if f.strip()]


def invoice_subscription(inv: Obj) -> str | None:
    parent = inv.get("parent") or {}
    details = parent.get("subscription_details") or {}
    return details.get("subscription") or inv.get("subscription")


def charge_of(pi: Obj) -> Obj | None:
    latest = pi.get("latest_charge")
    return latest if isinstance(latest, dict) else None


def pack_status(pi_status: str, amount: int, amount_refunded: int) -> str:
    if pi_status == "succeeded":
        if amount_refunded and amount_refunded >= amount:
            return "refunded"
        if amount_refunded:
            return "part_refunded"
        return "paid"
    if pi_status == "canceled":
        return "failed"
    return "waiting"


# -- schema --------------------------------------------------------------------------------
def apply_schema(conn: Connection) -> None:
    sql = (HERE / "schema.sql").read_text()
    statements = [s.strip() for s in _strip_comments(sql).split(";") if s.strip()]
    for statement in statements:
        conn.execute(text(statement))


def _strip_comments(sql: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())


# -- releases: which of their historical bugs were running when ----------------------------
@dataclass
class Release:
    """Bug name -> list of [from, to) unix windows in which the running code had it."""

    bugs: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    def live(self, bug: str, at: float) -> bool:
        return any(start <= at < end for start, end in self.bugs.get(bug, []))


class HandlerError(Exception):
    """Raised inside the handler; the delivery is logged `error`."""


@dataclass
class BugHit:
    bug: str
    table: str
    row_id: int
    stripe_id: str
    written: Decimal
    correct: Decimal
    ccy: str


# -- the webhook handler -------------------------------------------------------------------
class WebhookHandler:
    """`deliver(event, received)` = one POST to /hooks/stripe, after signature checks."""

    def __init__(self, conn: Connection, release: Release | None = None,
                 packs: Callable[[float], Iterable[str]] | None = None) -> None:
        self.conn = conn
        self.release = release or Release()
        self._packs = packs or (lambda _at: PACKS.keys())
        self.bug_hits: list[BugHit] = []

    # -- entry point
    def deliver(self, event: Obj, received: float, *, race: bool = False,
                crash_after_state: bool = False, fail: str | None = None,
                logged_at: float | None = None) -> str:
        try:
            if fail:
                raise HandlerError(fail)
            result = self._dispatch(event, received, race=race,
                                    crash_after_state=crash_after_state)
        except HandlerError:
            result = "error"
        self.conn.execute(text(
            "INSERT INTO stripe_events_seen (event_id, event_type, received, result) "
            "VALUES (:i, :t, :r, :res)"),
            {"i": event["id"], "t": event["type"], "r": iso_ms_z(logged_at or received),
             "res": result})
        return result

    def _dispatch(self, event: Obj, at: float, *, race: bool, crash_after_state: bool) -> str:
        kind = event["type"]
        obj = event["data"]["object"]
        if kind.startswith("customer.subscription."):
            return self.on_subscription(obj, at)
        if kind == "invoice.created" and self.release.live("copy_drafts", at):
            return self.on_invoice_finalized(obj, at)
        if kind == "invoice.finalized":
            return self.on_invoice_finalized(obj, at)
        if kind == "invoice.paid":
            return self.on_invoice_paid(obj, at, race=race, crash_after_state=crash_after_state)
        if kind == "invoice.voided":
            return self.on_invoice_state(obj, at, "cancelled")
        if kind == "invoice.marked_uncollectible":
            return self.on_invoice_state(obj, at, "bad_debt")
        if kind == "invoice.payment_failed":
            return "ok" if self._bill(obj["id"]) else "ignored"
        if kind == "payment_intent.created":
            return self.on_payment_intent_created(obj, at, race=race)
        if kind.startswith("payment_intent."):
            return self.on_payment_intent(obj, at)
        if kind == "charge.refunded":
            return self.on_charge_refunded(obj, at)
        return "ignored"

    # -- helpers
    def member_for_customer(self, customer: str | None) -> int | None:
        if not customer:
            return None
        return self.conn.execute(
            text("SELECT id FROM members WHERE stripe_ref = :c ORDER BY id LIMIT 1"),
            {"c": customer}).scalar()

    def display_money(self, amount: int, ccy: str, at: float) -> Decimal:
        """bills.total and pack_orders.price go through the 'display' helper."""
        if self.release.live("legacy_two_decimals", at):
            return to_major_legacy_two_decimals(amount, ccy)
        if self.release.live("float_rounddown", at):
            return to_major_float_rounddown(amount, ccy)
        return to_major(amount, ccy)

    def _note_bug(self, at: float, table: str, row_id: int, stripe_id: str, amount: int,
                  ccy: str, written: Decimal) -> None:
        correct = to_major(amount, ccy)
        if written != correct:
            bug = ("legacy_two_decimals" if self.release.live("legacy_two_decimals", at)
                   else "float_rounddown")
            self.bug_hits.append(BugHit(bug, table, row_id, stripe_id, written, correct,
                                        ccy.upper()))

    def grant(self, member_id: int, feature: str, at: float) -> bool:
        active = self.conn.execute(text(
            "SELECT id FROM course_access WHERE member_id = :m AND feature = :f "
            "AND revoked_at IS NULL"), {"m": member_id, "f": feature}).first()
        if active:
            return False
        self.conn.execute(text(
            "INSERT INTO course_access (member_id, feature, granted_at) VALUES (:m, :f, :g)"),
            {"m": member_id, "f": feature, "g": utc(at)})
        return True

    def revoke(self, member_id: int, feature: str, at: float) -> None:
        self.conn.execute(text(
            "UPDATE course_access SET revoked_at = :r WHERE member_id = :m AND feature = :f "
            "AND revoked_at IS NULL"), {"r": utc(at), "m": member_id, "f": feature})

    # -- memberships
    def on_subscription(self, sub: Obj, at: float) -> str:
        member_id = self.member_for_customer(sub.get("customer"))
        if member_id is None:
            return "ignored"
        price = sub_price(sub)
        plan_code = plan_code_of(price)
        state = SUB_STATE.get(sub["status"], "pending")
        period_end = sub_period_end(sub)
        renews_on = day(period_end) if period_end else None
        old = self.conn.execute(text(
            "SELECT id, state FROM memberships WHERE stripe_subscription = :s"),
            {"s": sub["id"]}).first()
        if old is None:
            self.conn.execute(text(
                "INSERT INTO memberships (member_id, stripe_subscription, plan_code, state, "
                "renews_on, updated) VALUES (:m, :s, :p, :st, :r, :u)"),
                {"m": member_id, "s": sub["id"], "p": plan_code, "st": state, "r": renews_on,
                 "u": iso_z(at)})
            old_state = None
        else:
            self.conn.execute(text(
                "UPDATE memberships SET plan_code = :p, state = :st, renews_on = :r, "
                "updated = :u WHERE id = :id"),
                {"p": plan_code, "st": state, "r": renews_on, "u": iso_z(at), "id": old.id})
            old_state = old.state
        features = features_of(price)
        if state in GRANTING:
            for feature in features:
                self.grant(member_id, feature, at)
            current = self.conn.execute(text(
                "SELECT DISTINCT feature FROM course_access WHERE member_id = :m "
                "AND revoked_at IS NULL AND feature NOT LIKE 'pack:%'"),
                {"m": member_id}).scalars().all()
            for feature in current:       # plan change: drop what the new plan lacks
                if feature not in features:
                    self.revoke(member_id, feature, at)
        elif old_state in GRANTING:       # a membership that gave access has ended
            for feature in features:
                self.revoke(member_id, feature, at)
        return "ok"

    # -- bills
    def _bill(self, invoice_id: str) -> Any:
        return self.conn.execute(text(
            "SELECT id, state, total, ccy FROM bills WHERE stripe_invoice = :i"),
            {"i": invoice_id}).first()

    def on_invoice_finalized(self, inv: Obj, at: float) -> str:
        member_id = self.member_for_customer(inv.get("customer"))
        if member_id is None:
            return "ignored"
        ccy = inv["currency"].upper()
        total = self.display_money(inv["total"], ccy, at)
        transitions = inv.get("status_transitions") or {}
        issued_ts = transitions.get("finalized_at") or inv.get("created")
        row_id = self.conn.execute(text(
            "INSERT INTO bills (member_id, stripe_invoice, number, total, ccy, state, issued) "
            "VALUES (:m, :i, :n, :t, :c, :s, :d) "
            "ON CONFLICT (stripe_invoice) DO UPDATE SET number = EXCLUDED.number, "
            "total = EXCLUDED.total, state = EXCLUDED.state, issued = EXCLUDED.issued "
            "RETURNING id"),
            {"m": member_id, "i": inv["id"], "n": inv.get("number"), "t": total, "c": ccy,
             "s": BILL_STATE.get(inv["status"], "due"), "d": iso_offset(issued_ts)}).scalar()
        self._note_bug(at, "bills", row_id, inv["id"], inv["total"], ccy, total)
        return "ok"

    def on_invoice_paid(self, inv: Obj, at: float, *, race: bool = False,
                        crash_after_state: bool = False) -> str:
        bill = self._bill(inv["id"])
        if bill is None:                  # finalized event never seen: create it now
            self.on_invoice_finalized({**inv, "status": "open"}, at)
            bill = self._bill(inv["id"])
            if bill is None:
                return "ignored"
        if bill.state == "settled" and not race:
            return "ignored"
        self.conn.execute(text("UPDATE bills SET state = 'settled' WHERE id = :id"),
                          {"id": bill.id})
        if crash_after_state:
            raise HandlerError("deadlock detected while inserting bill_payments")
        paid = inv.get("amount_paid") or 0
        if paid > 0:
            paid_at = (inv.get("status_transitions") or {}).get("paid_at") or at
            self.conn.execute(text(
                "INSERT INTO bill_payments (bill_id, amount, applied_at) VALUES (:b, :a, :t)"),
                {"b": bill.id, "a": to_major(paid, inv["currency"]),
                 "t": iso_offset(paid_at)})
        return "ok"

    def on_invoice_state(self, inv: Obj, at: float, state: str) -> str:
        bill = self._bill(inv["id"])
        if bill is None:
            if inv.get("status") == "draft":
                return "ignored"
            self.on_invoice_finalized(inv, at)
            return "ok"
        self.conn.execute(text("UPDATE bills SET state = :s WHERE id = :id"),
                          {"s": state, "id": bill.id})
        return "ok"

    # -- course packs
    def _orders(self, pi_id: str) -> list[Any]:
        return list(self.conn.execute(text(
            "SELECT id, member_id, pack_code, status FROM pack_orders "
            "WHERE stripe_payment = :p ORDER BY id"), {"p": pi_id}))

    def on_payment_intent_created(self, pi: Obj, at: float, *, race: bool = False) -> str:
        meta = pi.get("metadata") or {}
        if meta.get("kind") != "course_pack":
            return "ignored"
        pack_code = meta.get("pack_code")
        if pack_code not in set(self._packs(at)):
            raise HandlerError(f"unknown pack code {pack_code!r}")
        member_id = self.member_for_customer(pi.get("customer"))
        if member_id is None:
            return "ignored"
        if not race:
            if self._orders(pi["id"]):
                return "ignored"
            holder = self.conn.execute(text(
                "SELECT id FROM pack_orders WHERE member_id = :m AND pack_code = :p "
                "AND status NOT IN ('failed', 'refunded')"),
                {"m": member_id, "p": pack_code}).first()
            if holder:                    # "you already own this pack"
                return "ignored"
        ccy = pi["currency"].upper()
        price = self.display_money(pi["amount"], ccy, at)
        row_id = self.conn.execute(text(
            "INSERT INTO pack_orders (member_id, stripe_payment, pack_code, price, ccy, "
            "status, updated) VALUES (:m, :p, :c, :pr, :cc, :s, :u) RETURNING id"),
            {"m": member_id, "p": pi["id"], "c": pack_code, "pr": price, "cc": ccy,
             "s": pack_status(pi["status"], pi["amount"], 0),
             "u": iso_offset(pi["created"])}).scalar()
        self._note_bug(at, "pack_orders", row_id, pi["id"], pi["amount"], ccy, price)
        return "ok"

    def on_payment_intent(self, pi: Obj, at: float) -> str:
        orders = self._orders(pi["id"])
        if not orders:
            return "ignored"
        for order in orders:
            if pi["status"] == "succeeded" and order.status in ("part_refunded", "refunded"):
                continue
            self.conn.execute(text("UPDATE pack_orders SET status = :s WHERE id = :id"),
                              {"s": pack_status(pi["status"], pi["amount"], 0),
                               "id": order.id})
        order = orders[0]
        if pi["status"] == "succeeded":
            self.grant(order.member_id, f"pack:{order.pack_code}", at)
        elif pi["status"] == "processing" and self.release.live("grant_on_processing", at):
            self.grant(order.member_id, f"pack:{order.pack_code}", at)
        return "ok"

    def on_charge_refunded(self, charge: Obj, at: float) -> str:
        orders = self._orders(charge.get("payment_intent") or "")
        if not orders:
            return "ignored"
        refunds = (charge.get("refunds") or {}).get("data") or []
        refund_ts = max([r.get("created") or 0 for r in refunds] or [int(at)])
        status = pack_status("succeeded", charge["amount"], charge.get("amount_refunded") or 0)
        for order in orders:
            self.conn.execute(text(
                "UPDATE pack_orders SET status = :s, updated = :u WHERE id = :id"),
                {"s": status, "u": iso_offset(refund_ts), "id": order.id})
        if status == "refunded":
            self.revoke(orders[0].member_id, f"pack:{orders[0].pack_code}", at)
        return "ok"


# -- the nightly resync job (used where the webhook stream is not enough) ------------------
def resync(conn: Connection, client: Any) -> None:
    """Rebuild memberships, bills, payments, pack orders and access from Stripe objects.

    Written during the Python rewrite to backfill the Rails data; it reads every paying
    member's customer, subscriptions, invoices and course-pack PaymentIntents. A member
    whose customer cannot be read is skipped (logged by the job, not shown here)."""
    members = conn.execute(text(
        "SELECT id, stripe_ref FROM members WHERE stripe_ref IS NOT NULL AND NOT closed "
        "ORDER BY id")).all()
    by_customer = {m.stripe_ref: m.id for m in members}
    handler = WebhookHandler(conn)
    for member in members:
        try:
            client.v1.customers.retrieve(member.stripe_ref)
        except Exception:  # noqa: BLE001 - the job logs and moves on
            continue
        subs = client.v1.subscriptions.list(
            params={"customer": member.stripe_ref, "status": "all", "limit": 100})
        for sub in sorted((s.to_dict() for s in subs.auto_paging_iter()),
                          key=lambda s: s["created"]):
            if sub["status"] == "canceled":     # it was live until it ended
                handler.on_subscription({**sub, "status": "active"}, sub["created"])
            ended = sub.get("ended_at") or sub.get("canceled_at") or sub["created"]
            handler.on_subscription(sub, ended)
        invoices = client.v1.invoices.list(params={"customer": member.stripe_ref, "limit": 100})
        for inv in sorted((i.to_dict() for i in invoices.auto_paging_iter()),
                          key=lambda i: i["created"]):
            if inv["status"] == "draft":
                continue
            handler.on_invoice_finalized({**inv, "status": "open"}, inv["created"])
            if inv["status"] == "paid":
                handler.on_invoice_paid(inv, inv["created"])
            elif inv["status"] == "void":
                handler.on_invoice_state(inv, inv["created"], "cancelled")
            elif inv["status"] == "uncollectible":
                handler.on_invoice_state(inv, inv["created"], "bad_debt")
    intents = client.v1.payment_intents.list(params={"limit": 100})
    for pi in sorted((p.to_dict() for p in intents.auto_paging_iter()),
                     key=lambda p: p["created"]):
        if (pi.get("metadata") or {}).get("kind") != "course_pack":
            continue
        if pi.get("customer") not in by_customer:
            continue
        handler.on_payment_intent_created(pi, pi["created"])
        handler.on_payment_intent(pi, pi["created"])
        charge = charge_of(pi)
        if charge and charge.get("amount_refunded"):
            handler.on_charge_refunded({**charge, "payment_intent": pi["id"]},
                                       charge.get("created") or pi["created"])
