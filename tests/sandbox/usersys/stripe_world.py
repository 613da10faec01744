"""Helpers of the user-system tests: Stripe-shaped objects and events built from Stripe's
published examples, a fresh company DB, and a client of the webhook app."""

from __future__ import annotations

import copy
import itertools
import json
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from stripe import WebhookSignature

from sandbox.usersys.handler import HandlerOutcome, apply_event
from sandbox.usersys.models import create_schema, make_engine
from sandbox.usersys.server import HandlerHandle

FIXTURES = Path(__file__).resolve().parents[3] / "sandbox/replica/fixtures/fixtures3.json"
SECRET = "whsec_test_usersys_primary"
T0 = 1_760_000_000
DAY = 86_400
Obj = dict[str, Any]


@lru_cache(maxsize=1)
def _examples() -> dict[str, Obj]:
    return json.loads(FIXTURES.read_text())["resources"]


class StripeWorld:
    """Builds objects the way Stripe shows them (fixture example + our values) and events
    carrying snapshots of them. `latest` keeps each object's newest state for comparisons."""

    def __init__(self) -> None:
        self._n = itertools.count(1)
        self.clock = T0
        self.latest: dict[str, Obj] = {}

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._n):014d}"

    def _new(self, kind: str, prefix: str, **fields: Any) -> Obj:
        obj = copy.deepcopy(_examples()[kind])
        obj.update(id=self._id(prefix), created=self.clock, livemode=False, metadata={})
        obj.update(fields)
        self.latest[obj["id"]] = obj
        return copy.deepcopy(obj)

    def change(self, obj: Obj, **fields: Any) -> Obj:
        """A new snapshot of `obj` with `fields` changed (the old one stays untouched)."""
        new = copy.deepcopy(obj)
        new.update(fields)
        self.latest[new["id"]] = new
        return copy.deepcopy(new)

    def event(self, event_type: str, obj: Obj, *, created: int | None = None,
              account: str | None = None, livemode: bool = False) -> Obj:
        event = copy.deepcopy(_examples()["event"])
        event.update(id=self._id("evt"), type=event_type, created=created or self.clock,
                     api_version="2026-10-28.endive", livemode=livemode,
                     data={"object": copy.deepcopy(obj)})
        if account:
            event["account"] = account
        return event

    # -- resources -----------------------------------------------------------------------
    def customer(self, email: str = "ops@example.com", **fields: Any) -> Obj:
        return self._new("customer", "cus", email=email, name=email.split("@")[0],
                         discount=None, currency="usd", **fields)

    def subscription(self, customer: Obj, *, status: str = "active", plan: str = "pro",
                     quantity: int = 1, currency: str = "usd", **fields: Any) -> Obj:
        sub = copy.deepcopy(_examples()["subscription"])
        item = sub["items"]["data"][0]
        item.update(quantity=quantity, current_period_start=self.clock,
                    current_period_end=self.clock + 30 * DAY)
        item["price"].update(lookup_key=plan, id=f"price_{plan}", currency=currency)
        base = dict(customer=customer["id"], status=status, currency=currency, items=sub["items"],
                    cancel_at_period_end=False, canceled_at=None, cancel_at=None, ended_at=None,
                    trial_end=None, trial_start=None, latest_invoice=None,
                    cancellation_details={"comment": None, "feedback": None, "reason": None})
        new = self._new("subscription", "sub", **{**base, **fields})
        new["items"]["data"][0]["subscription"] = new["id"]
        self.latest[new["id"]] = copy.deepcopy(new)
        return new

    def with_item(self, sub: Obj, **item_fields: Any) -> Obj:
        new = copy.deepcopy(sub)
        item = new["items"]["data"][0]
        for key, value in item_fields.items():
            if key in ("plan",):
                item["price"].update(lookup_key=value, id=f"price_{value}")
            else:
                item[key] = value
        self.latest[new["id"]] = new
        return copy.deepcopy(new)

    def invoice(self, customer: Obj, *, sub: Obj | None = None, amount: int = 2000,
                currency: str = "usd", status: str = "draft", **fields: Any) -> Obj:
        parent = None
        if sub is not None:
            parent = {"type": "subscription_details", "quote_details": None,
                      "subscription_details": {"metadata": {}, "subscription": sub["id"]}}
        base = dict(customer=customer["id"], currency=currency, status=status, parent=parent,
                    amount_due=amount, amount_paid=0, amount_remaining=amount, subtotal=amount,
                    total=amount, number=None, billing_reason="subscription_cycle",
                    period_start=self.clock, period_end=self.clock + 30 * DAY, attempt_count=0,
                    status_transitions={"finalized_at": None, "marked_uncollectible_at": None,
                                        "paid_at": None, "voided_at": None})
        return self._new("invoice", "in", **{**base, **fields})

    def paid(self, invoice: Obj, *, at: int | None = None) -> Obj:
        at = at or self.clock
        return self.change(invoice, status="paid", amount_paid=invoice["amount_due"],
                           amount_remaining=0,
                           status_transitions={**invoice["status_transitions"], "paid_at": at})

    def payment_intent(self, customer: Obj | None, *, amount: int = 2000, currency: str = "usd",
                       status: str = "succeeded", methods: tuple[str, ...] = ("card",),
                       feature: str | None = None, **fields: Any) -> Obj:
        base = dict(customer=customer["id"] if customer else None, amount=amount,
                    currency=currency, status=status, payment_method_types=list(methods),
                    amount_received=amount if status == "succeeded" else 0,
                    last_payment_error=None, latest_charge=None, next_action=None,
                    processing=None, metadata={"feature": feature} if feature else {})
        return self._new("payment_intent", "pi", **{**base, **fields})

    def charge(self, pi: Obj, **fields: Any) -> Obj:
        base = dict(payment_intent=pi["id"], customer=pi["customer"], amount=pi["amount"],
                    currency=pi["currency"], amount_refunded=0, refunded=False, disputed=False,
                    refunds={"object": "list", "data": [], "has_more": False, "url": ""})
        return self._new("charge", "ch", **{**base, **fields})

    def refund(self, charge: Obj, *, amount: int | None = None, status: str = "succeeded",
               **fields: Any) -> Obj:
        base = dict(charge=charge["id"], payment_intent=charge["payment_intent"],
                    amount=charge["amount"] if amount is None else amount,
                    currency=charge["currency"], status=status, failure_reason=None)
        return self._new("refund", "re", **{**base, **fields})

    def dispute(self, charge: Obj, *, status: str = "needs_response", **fields: Any) -> Obj:
        base = dict(charge=charge["id"], payment_intent=charge["payment_intent"],
                    amount=charge["amount"], currency=charge["currency"], status=status)
        return self._new("dispute", "dp", **{**base, **fields})

    def checkout_session(self, customer: Obj | None, pi: Obj | None, *, feature: str | None,
                         status: str = "complete", payment_status: str = "paid",
                         methods: tuple[str, ...] = ("card",), mode: str = "payment",
                         **fields: Any) -> Obj:
        base = dict(customer=customer["id"] if customer else None,
                    payment_intent=pi["id"] if pi else None, mode=mode, status=status,
                    payment_status=payment_status, payment_method_types=list(methods),
                    amount_total=pi["amount"] if pi else 0, subscription=None,
                    currency=pi["currency"] if pi else "usd", expires_at=self.clock + DAY,
                    metadata={"feature": feature} if feature else {})
        return self._new("checkout.session", "cs_test", **{**base, **fields})

    def invoice_payment(self, invoice: Obj, pi: Obj) -> Obj:
        return self._new("invoice_payment", "inpay", invoice=invoice["id"], currency=pi["currency"],
                         amount_paid=pi["amount"], amount_requested=pi["amount"], status="paid",
                         payment={"type": "payment_intent", "payment_intent": pi["id"]})

    def cash_funded(self, customer: Obj, *, amount: int, currency: str = "eur") -> Obj:
        return self._new("customer_cash_balance_transaction", "ccsbtxn",
                         customer=customer["id"], currency=currency, net_amount=amount,
                         ending_balance=amount, type="funded")





class Db:
    """A fresh company DB and a way to apply events to it without HTTP."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        create_schema(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def apply(self, event: Obj, *, bugs: frozenset[str] | set[str] = frozenset(),
              expected_livemode: bool | None = None) -> HandlerOutcome:
        with self.sessions() as session:
            outcome = apply_event(session, event, bugs=frozenset(bugs),
                                  now=datetime.fromtimestamp(event["created"] + 1, UTC),
                                  expected_livemode=expected_livemode)
            if outcome.status == "failed":
                session.rollback()
            else:
                session.commit()
            return outcome

    def apply_all(self, events: list[Obj], **kw: Any) -> list[HandlerOutcome]:
        return [self.apply(e, **kw) for e in events]

    def session(self) -> Session:
        return self.sessions()

    def rows(self, model: Any, **where: Any) -> list[Any]:
        with self.sessions() as session:
            return list(session.scalars(select(model).filter_by(**where)))

    def one(self, model: Any, **where: Any) -> Any:
        rows = self.rows(model, **where)
        assert len(rows) == 1, f"expected one {model.__tablename__} row for {where}: {rows}"
        return rows[0]

    def count(self, model: Any, **where: Any) -> int:
        with self.sessions() as session:
            return session.scalar(select(func.count()).select_from(model).filter_by(**where)) or 0





def sign(body: str, secret: str = SECRET, timestamp: int | None = None) -> str:
    return WebhookSignature.generate_signature_header(body, secret, timestamp=timestamp)


def body_of(event: Obj) -> str:
    """Stripe (and the replica) send pretty-printed JSON."""
    return json.dumps(event, indent=2)


class App:
    def __init__(self, handle: HandlerHandle, db: Db) -> None:
        self.handle = handle
        self.db = db
        self.http = httpx.Client(timeout=10)

    def post(self, event: Obj, *, secret: str = SECRET, body: str | None = None,
             header: str | None = None) -> httpx.Response:
        body = body if body is not None else body_of(event)
        headers = {"Content-Type": "application/json",
                   "Stripe-Signature": header if header is not None else sign(body, secret)}
        return self.http.post(self.handle.webhook_url, content=body.encode(), headers=headers)
