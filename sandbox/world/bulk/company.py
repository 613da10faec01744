"""The company side of the bulk history: what the correct handler stores for those events.

Each event gets one delivery attempt (200) a few seconds after it was created; the events are
then walked in delivery order, as `delivery.deliver_all` would apply them, with the handler's
own rules: its status ranks and watermark (``(event.created, rank)``, stale otherwise), its
pure snapshot mapping for subscriptions, its entitlement policy for subscription access, and
stub rows when a link arrives before its object. Rows are plain dicts per table, with the
primary keys the ORM would have assigned; `write` inserts them with executemany.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from sandbox.usersys.context import stripe_id, ts
from sandbox.usersys.entitlements import ENTITLED_STATUSES
from sandbox.usersys.families import invoices as inv_family
from sandbox.usersys.families import payments as pay_family
from sandbox.usersys.families import subscriptions as sub_family
from sandbox.usersys.models import (
    Account,
    Entitlement,
    Invoice,
    Payment,
    ProcessedWebhook,
    Subscription,
)
from sandbox.world.delivery import world_time

Obj = dict[str, Any]
DEFAULTS = {
    "accounts": {"delinquent": False, "deleted_at": None},
    "subscriptions": {"cancel_at_period_end": False},
    "invoices": {},
    "payments": {"amount_refunded": None, "failure_code": None, "feature": None,
                 "invoice_id": None, "charge_event_created": None, "stripe_charge_id": None,
                 "payment_method_type": None, "account_id": None, "status": None,
                 "amount_received": None},
}
SYNCED = {"connect_account_id": None, "livemode": None, "stripe_event_created": None,
          "stripe_state_rank": 0}


def deliveries(events: list[Obj], *, seed: int) -> list[tuple[int, int]]:
    """(delivery time, event index) in delivery order: one attempt, 1-4 s after creation."""
    rng = random.Random(seed * 7919 + 0xB17)
    order = [(ev["created"] + 1 + rng.randrange(4), i) for i, ev in enumerate(events)]
    order.sort()
    return order


class CompanyRows:
    """The tables the correct handler would have written, built in delivery order."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, Obj]] = defaultdict(dict)  # table -> key -> row
        self.entitlements: list[Obj] = []
        self.processed: list[Obj] = []
        self._active: dict[str, Obj] = {}  # subscription id -> active entitlement row

    # -- rows ------------------------------------------------------------------------------
    def _row(self, table: str, key_column: str, key: str, at: datetime) -> tuple[Obj, bool]:
        rows = self.tables[table]
        if key in rows:
            return rows[key], False
        row = {"id": len(rows) + 1, key_column: key, "created_at": at, "updated_at": at,
               **SYNCED, **DEFAULTS.get(table, {})}
        rows[key] = row
        return row, True

    def _account_id(self, customer: Any) -> int | None:
        row = self.tables["accounts"].get(stripe_id(customer) or "")
        return row["id"] if row else None

    @staticmethod
    def _fresh(row: Obj, created: int, rank: int) -> bool:
        mark = row["stripe_event_created"]
        return mark is None or (created, rank) >= (mark, row["stripe_state_rank"])

    @staticmethod
    def _stamp(row: Obj, ev: Obj, rank: int, at: datetime) -> None:
        row.update(stripe_event_created=int(ev["created"]), stripe_state_rank=rank,
                   livemode=False, connect_account_id=None, updated_at=at)

    # -- events ----------------------------------------------------------------------------
    def apply(self, ev: Obj, at: datetime) -> None:
        kind, obj = ev["type"], ev["data"]["object"]
        handler = {
            "customer": self._customer, "subscription": self._subscription,
            "invoice": self._invoice, "payment_intent": self._payment_intent,
            "charge": self._charge, "invoice_payment": self._invoice_payment,
        }.get(obj.get("object", ""))
        outcome = "ignored" if handler is None else handler(ev, obj, at)
        self.processed.append({
            "id": len(self.processed) + 1, "event_id": ev["id"], "type": kind,
            "object_id": obj.get("id"), "connect_account_id": None, "livemode": False,
            "api_version": ev.get("api_version"),
            "event_created": world_time(int(ev["created"])), "received_at": at,
            "outcome": outcome})

    def _customer(self, ev: Obj, cus: Obj, at: datetime) -> str:
        row, created = self._row("accounts", "stripe_customer_id", cus["id"], at)
        if not created and not self._fresh(row, ev["created"], 0):
            return "stale"
        row.update(email=cus.get("email"), name=cus.get("name"),
                   delinquent=bool(cus.get("delinquent")))
        self._stamp(row, ev, 0, at)
        return "applied"

    def _subscription(self, ev: Obj, sub: Obj, at: datetime) -> str:
        rank = sub_family.RANK.get(sub.get("status") or "", 0)
        row, created = self._row("subscriptions", "stripe_subscription_id", sub["id"], at)
        if not created and not self._fresh(row, ev["created"], rank):
            return "stale"
        row.update(sub_family._snapshot(sub), account_id=self._account_id(sub.get("customer")))
        self._stamp(row, ev, rank, at)
        active = self._active.get(sub["id"])
        if row["status"] in ENTITLED_STATUSES and active is None and row["plan"]:
            grant = {"id": len(self.entitlements) + 1, "account_id": row["account_id"],
                     "feature": row["plan"], "active": True, "granted_at": at,
                     "revoked_at": None, "revoke_reason": None, "source_type": "subscription",
                     "source_id": sub["id"], "created_at": at, "updated_at": at}
            self.entitlements.append(grant)
            self._active[sub["id"]] = grant
        elif row["status"] not in ENTITLED_STATUSES and active is not None:
            active.update(active=False, revoked_at=at, updated_at=at,
                          revoke_reason=f"subscription_{row['status']}")
            del self._active[sub["id"]]
        return "applied"

    def _invoice(self, ev: Obj, inv: Obj, at: datetime) -> str:
        # The handler's rank: status, then attempts within a status.
        rank = (inv_family.RANK.get(inv.get("status") or "", 0) * 1000
                + min(int(inv.get("attempt_count") or 0), 999))
        row, created = self._row("invoices", "stripe_invoice_id", inv["id"], at)
        if not created and not self._fresh(row, ev["created"], rank):
            return "stale"
        parent = inv.get("parent") or {}
        row.update(
            account_id=self._account_id(inv.get("customer")),
            stripe_subscription_id=stripe_id(
                (parent.get("subscription_details") or {}).get("subscription")),
            number=inv.get("number"), status=inv.get("status"),
            billing_reason=inv.get("billing_reason"),
            collection_method=inv.get("collection_method"), currency=inv.get("currency"),
            period_start=ts(inv.get("period_start")), period_end=ts(inv.get("period_end")),
            paid_at=ts((inv.get("status_transitions") or {}).get("paid_at")),
            attempt_count=inv.get("attempt_count"),
            **{name: inv.get(name) for name in ("subtotal", "total", "amount_due",
                                                 "amount_paid", "amount_remaining")})
        self._stamp(row, ev, rank, at)
        return "applied"

    def _payment_intent(self, ev: Obj, pi: Obj, at: datetime) -> str:
        rank = pay_family.RANK.get(pi.get("status") or "", 0)
        row, created = self._row("payments", "stripe_payment_intent_id", pi["id"], at)
        if not created and not self._fresh(row, ev["created"], rank):
            return "stale"
        account = self._account_id(pi.get("customer"))
        if account is not None:
            row["account_id"] = account
        row.update(status=pi.get("status"), amount=pi.get("amount"),
                   amount_received=pi.get("amount_received"), currency=pi.get("currency"),
                   payment_method_type=pay_family._method(pi) or row["payment_method_type"],
                   failure_code=(pi.get("last_payment_error") or {}).get("code"),
                   feature=(pi.get("metadata") or {}).get("feature"),
                   stripe_charge_id=stripe_id(pi.get("latest_charge")) or row["stripe_charge_id"])
        if row["stripe_charge_id"] and row["amount_refunded"] is None:
            row["amount_refunded"] = 0
        self._stamp(row, ev, rank, at)
        return "applied"

    def _charge(self, ev: Obj, charge: Obj, at: datetime) -> str:
        pi_id = stripe_id(charge.get("payment_intent")) or ""
        row, created = self._row("payments", "stripe_payment_intent_id", pi_id, at)
        if created:
            row.update(currency=charge.get("currency"), amount=charge.get("amount"))
        mark = row["charge_event_created"]
        if mark is not None and ev["created"] < mark:
            return "stale"
        account = self._account_id(charge.get("customer"))
        if account is not None and row["account_id"] is None:
            row["account_id"] = account
        details = charge.get("payment_method_details") or {}
        row.update(stripe_charge_id=charge["id"],
                   amount_refunded=charge.get("amount_refunded") or 0,
                   payment_method_type=details.get("type") or row["payment_method_type"],
                   charge_event_created=int(ev["created"]), updated_at=at)
        return "applied"

    def _invoice_payment(self, ev: Obj, link: Obj, at: datetime) -> str:
        pi_id = stripe_id((link.get("payment") or {}).get("payment_intent"))
        invoice_id = stripe_id(link.get("invoice"))
        if not pi_id or not invoice_id:
            return "ignored"
        invoice, _ = self._row("invoices", "stripe_invoice_id", invoice_id, at)
        payment, created = self._row("payments", "stripe_payment_intent_id", pi_id, at)
        if created:
            payment.update(currency=link.get("currency"), amount=link.get("amount_paid"),
                           status="succeeded" if link.get("status") == "paid" else None)
        payment.update(invoice_id=invoice["id"], updated_at=at)
        if payment["account_id"] is None:
            payment["account_id"] = invoice.get("account_id")
        return "applied"

    # -- writing ---------------------------------------------------------------------------
    def write(self, conn: Connection) -> int:
        """Insert every row (executemany per table, parents first); answer the row count."""
        n = 0
        for model, rows in ((Account, self.tables["accounts"].values()),
                            (Subscription, self.tables["subscriptions"].values()),
                            (Invoice, self.tables["invoices"].values()),
                            (Payment, self.tables["payments"].values()),
                            (Entitlement, self.entitlements),
                            (ProcessedWebhook, self.processed)):
            rows = list(rows)
            if rows:
                columns = [c.key for c in model.__table__.columns]
                conn.execute(model.__table__.insert(),
                             [{c: row.get(c) for c in columns} for row in rows])
                n += len(rows)
        return n


__all__ = ["CompanyRows", "deliveries"]
