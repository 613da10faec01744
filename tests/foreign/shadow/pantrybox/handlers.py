"""What each Stripe event does to Pantry Box's tables.

Rules the team follows (and each bug variant breaks one of, marked BUG(<variant>)):
- An event is applied once: `processed_event` is checked and written in the same
  transaction as the effect, and shipping/dunning also look for their own earlier rows.
- Stripe does not deliver in order. A household or subscription row keeps the `created`
  of the event whose snapshot it holds (`stripe_as_of`) and ignores older snapshots; a
  subscription that has ended stays ended; gift orders only move forward
  (awaiting_payment -> paid | payment_failed -> refunded); refund totals only grow.
- Every effect that needs another object (boxes need the subscription's plan, refunds
  need the shipment or gift order) is retried after each event until it can be applied,
  so it does not matter which of the two arrives first.
- Events come in the endpoint's API version, old or new: an invoice's subscription is
  under `parent.subscription_details` (new) or top-level `subscription` (old); a
  subscription's `current_period_end` is on its items (new) or on itself (old).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from .models import (
    BoxSubscription,
    DunningNotice,
    GiftOrder,
    Household,
    InvoicePayment,
    PaidInvoice,
    ProcessedEvent,
    RefundNote,
    Shipment,
    plan_boxes,
    utcnow,
)

Obj = dict[str, Any]

STATUS_WORDS = {
    "trialing": "trial",
    "active": "active",
    "past_due": "arrears",
    "unpaid": "arrears",
    "incomplete": "arrears",
    "paused": "paused",
    "canceled": "ended",
    "incomplete_expired": "ended",
}
GIFT_RANK = {"awaiting_payment": 0, "paid": 1, "payment_failed": 1, "refunded": 2}
PALLET_PLANS = frozenset({"family_plus"})


def iso_week(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%G-W%V")


@dataclass
class Outcome:
    status: str  # processed | duplicate | ignored
    after_commit: list[Callable[[], object]] = field(default_factory=list)


class Processor:
    """Applies one verified event inside the caller's transaction."""

    def __init__(self, db: Session, variant: str) -> None:
        self.db = db
        self.variant = variant
        self.after_commit: list[Callable[[], object]] = []

    # -- entry point ---------------------------------------------------------------------
    def process(self, event: Obj) -> Outcome:
        handler = HANDLERS.get(event["type"])
        if handler is None:
            return Outcome("ignored")
        if self.variant != "no_dedupe":  # BUG(no_dedupe): the log is never consulted
            if self.db.get(ProcessedEvent, event["id"]) is not None:
                return Outcome("duplicate")
        handler(self, event, event["data"]["object"])
        self.ship_waiting_invoices()
        self.settle_refunds()
        self.db.merge(ProcessedEvent(stripe_event_id=event["id"], type=event["type"],
                                     processed_at=utcnow()))
        return Outcome("processed", self.after_commit)

    # -- ordering ------------------------------------------------------------------------
    def is_newer(self, as_of: int, event: Obj) -> bool:
        """Does `event` carry a snapshot at least as new as the one a row holds?

        Same-second ties go to the later event type: a `.created` event is always its
        object's first, so it never replaces a snapshot from the same second.
        """
        if self.variant == "trust_arrival_order":  # BUG: last arrival wins
            return True
        created = event["created"]
        return created > as_of or (created == as_of and not event["type"].endswith(".created"))

    # -- payload shapes (old and new API versions) ----------------------------------------
    def invoice_subscription(self, invoice: Obj) -> str | None:
        parent = invoice.get("parent") or {}
        details = parent.get("subscription_details") or {}
        if self.variant == "newest_shape_only":  # BUG: only the newest shape
            return details.get("subscription")
        sub = details.get("subscription") or invoice.get("subscription")
        return sub.get("id") if isinstance(sub, dict) else sub

    def period_end(self, sub: Obj) -> int | None:
        items = (sub.get("items") or {}).get("data") or []
        from_items = items[0].get("current_period_end") if items else None
        if self.variant == "newest_shape_only":  # BUG: only the newest shape
            return from_items
        return from_items or sub.get("current_period_end")

    @staticmethod
    def plan_code(sub: Obj) -> str | None:
        items = (sub.get("items") or {}).get("data") or []
        for item in items:
            for key in ("price", "plan"):
                price = item.get(key)
                if isinstance(price, dict) and (price.get("metadata") or {}).get("plan"):
                    return price["metadata"]["plan"]
        legacy = sub.get("plan")
        if isinstance(legacy, dict):
            return (legacy.get("metadata") or {}).get("plan")
        return None

    @staticmethod
    def _id(value: Any) -> str | None:
        return value.get("id") if isinstance(value, dict) else value

    # -- customers -----------------------------------------------------------------------
    def customer(self, event: Obj, cus: Obj) -> None:
        row = self.db.scalar(select(Household).where(Household.stripe_customer_id == cus["id"]))
        if row is None:
            row = Household(stripe_customer_id=cus["id"], stripe_as_of=0)
            self.db.add(row)
        elif not self.is_newer(row.stripe_as_of, event):
            return
        row.email = cus.get("email")
        row.country = (cus.get("address") or {}).get("country")
        row.stripe_as_of = event["created"]

    # -- subscriptions -------------------------------------------------------------------
    def subscription(self, event: Obj, sub: Obj) -> None:
        row = self.db.scalar(select(BoxSubscription).where(
            BoxSubscription.stripe_subscription_id == sub["id"]))
        status = "ended" if event["type"] == "customer.subscription.deleted" else (
            STATUS_WORDS.get(sub.get("status"), "arrears"))
        if row is None:
            row = BoxSubscription(stripe_subscription_id=sub["id"], stripe_as_of=0,
                                  status=status)
            self.db.add(row)
        elif row.status == "ended" or not self.is_newer(row.stripe_as_of, event):
            # An older snapshot (or one after the end): only fill what we never knew.
            row.plan_code = row.plan_code or self.plan_code(sub)
            row.stripe_customer_id = row.stripe_customer_id or self._id(sub.get("customer"))
            return
        row.status = status
        row.plan_code = self.plan_code(sub) or row.plan_code
        row.stripe_customer_id = self._id(sub.get("customer"))
        row.current_period_end = self.period_end(sub)
        row.stripe_as_of = event["created"]

    # -- invoices ------------------------------------------------------------------------
    def invoice_paid(self, event: Obj, invoice: Obj) -> None:
        sub_id = self.invoice_subscription(invoice)
        if sub_id is None:
            return  # not a box subscription invoice
        lines = (invoice.get("lines") or {}).get("data") or []
        start = (lines[0].get("period") or {}).get("start") if lines else None
        paid = self.db.get(PaidInvoice, invoice["id"])
        if paid is None:
            paid = PaidInvoice(
                stripe_invoice_id=invoice["id"], stripe_subscription_id=sub_id,
                stripe_customer_id=self._id(invoice.get("customer")),
                amount_paid=invoice.get("amount_paid") or 0, currency=invoice["currency"],
                week=iso_week(start or invoice["created"]))
            self.db.add(paid)
        # Which PaymentIntent paid it: invoice.payment_intent in old API versions, an
        # invoice_payment object (invoice_payment.paid) in new ones.
        old_shape_pi = None
        if self.variant != "newest_shape_only":  # BUG: the old top-level field is ignored
            old_shape_pi = self._id(invoice.get("payment_intent"))
        paid.stripe_payment_intent_id = (
            paid.stripe_payment_intent_id or old_shape_pi
            or self.db.scalar(select(InvoicePayment.stripe_payment_intent_id).where(
                InvoicePayment.stripe_invoice_id == invoice["id"],
                InvoicePayment.stripe_payment_intent_id.is_not(None))))
        self.db.flush()
        self.ship_invoice(paid)

    def ship_invoice(self, paid: PaidInvoice) -> None:
        sub = self.db.scalar(select(BoxSubscription).where(
            BoxSubscription.stripe_subscription_id == paid.stripe_subscription_id))
        boxes = plan_boxes(self.db, sub.plan_code) if sub is not None else None
        if boxes is None:
            return  # the subscription (or its plan) is not known yet: shipped when it is
        if self.variant != "no_dedupe":  # BUG(no_dedupe): no look for earlier boxes
            if self._has_shipments("box", paid.stripe_invoice_id):
                return
        for number in range(1, boxes + 1):
            self.db.add(Shipment(kind="box", source_ref=paid.stripe_invoice_id,
                                 stripe_customer_id=paid.stripe_customer_id,
                                 plan_code=sub.plan_code, week=paid.week, box_number=number))
        self.db.flush()
        if self.variant == "slow_courier_booking" and sub.plan_code in PALLET_PLANS:
            # BUG: books the pallet courier from the webhook request (12 s)
            customer, week = paid.stripe_customer_id, paid.week
            self.after_commit.append(lambda: book_pallet_slot(customer, week, boxes))

    def ship_waiting_invoices(self) -> None:
        """Paid invoices whose subscription was unknown when they arrived."""
        self.db.flush()
        waiting = self.db.scalars(select(PaidInvoice).where(~exists().where(
            Shipment.kind == "box", Shipment.source_ref == PaidInvoice.stripe_invoice_id))
            .order_by(PaidInvoice.stripe_invoice_id)).all()
        for paid in waiting:
            self.ship_invoice(paid)

    def _has_shipments(self, kind: str, ref: str) -> bool:
        self.db.flush()
        return bool(self.db.scalar(select(exists().where(
            Shipment.kind == kind, Shipment.source_ref == ref))))

    def invoice_payment_failed(self, event: Obj, invoice: Obj) -> None:
        sub_id = self.invoice_subscription(invoice)
        attempt = invoice.get("attempt_count") or 0
        seen = self.variant != "no_dedupe" and self.db.scalar(select(exists().where(
            DunningNotice.stripe_invoice_id == invoice["id"],
            DunningNotice.attempt_count == attempt)))
        if not seen:  # BUG(no_dedupe): a redelivery writes a second notice
            self.db.add(DunningNotice(
                stripe_invoice_id=invoice["id"], stripe_subscription_id=sub_id,
                stripe_customer_id=self._id(invoice.get("customer")), attempt_count=attempt,
                amount_due=invoice.get("amount_due") or 0, currency=invoice["currency"],
                next_payment_attempt=invoice.get("next_payment_attempt")))
        if sub_id is None:
            return
        row = self.db.scalar(select(BoxSubscription).where(
            BoxSubscription.stripe_subscription_id == sub_id))
        if row is None or row.status == "ended":
            return
        # The failure moves the box to arrears unless a newer subscription snapshot
        # already said otherwise; it is not a snapshot itself, so stripe_as_of stays.
        if self.variant == "trust_arrival_order" or event["created"] > row.stripe_as_of:
            row.status = "arrears"

    def invoice_payment_paid(self, event: Obj, payment: Obj) -> None:
        row = self.db.get(InvoicePayment, payment["id"])
        pi = self._id((payment.get("payment") or {}).get("payment_intent"))
        if row is None:
            row = InvoicePayment(stripe_invoice_payment_id=payment["id"],
                                 stripe_invoice_id=self._id(payment["invoice"]),
                                 amount_paid=payment.get("amount_paid") or 0,
                                 currency=payment["currency"])
            self.db.add(row)
        row.stripe_payment_intent_id = row.stripe_payment_intent_id or pi
        paid = self.db.get(PaidInvoice, row.stripe_invoice_id)
        if paid is not None and paid.stripe_payment_intent_id is None:
            paid.stripe_payment_intent_id = pi

    # -- gift boxes (Checkout, mode payment, metadata.kind = gift) -------------------------
    @staticmethod
    def is_gift(session: Obj) -> bool:
        return session.get("mode") == "payment" and (session.get("metadata") or {}).get(
            "kind") == "gift"

    def gift(self, event: Obj, session: Obj, status: str) -> GiftOrder:
        order = self.db.scalar(select(GiftOrder).where(
            GiftOrder.stripe_checkout_session_id == session["id"]))
        before = order.status if order is not None else None
        if order is None:
            order = GiftOrder(
                stripe_checkout_session_id=session["id"],
                stripe_customer_id=self._id(session.get("customer")),
                buyer_email=(session.get("customer_details") or {}).get("email")
                or session.get("customer_email"),
                amount_total=session.get("amount_total") or 0, currency=session["currency"],
                status=status)
            self.db.add(order)
        elif self.variant == "trust_arrival_order" or GIFT_RANK[status] > GIFT_RANK[order.status]:
            order.status = status  # BUG(trust_arrival_order): may move backwards
        order.stripe_payment_intent_id = (order.stripe_payment_intent_id
                                          or self._id(session.get("payment_intent")))
        if order.status == "paid" and before != "paid":
            self.ship_gift(order, event)
        return order

    def ship_gift(self, order: GiftOrder, event: Obj) -> None:
        if self.variant != "no_dedupe":  # BUG(no_dedupe): no look for an earlier box
            if self._has_shipments("gift", order.stripe_checkout_session_id):
                return
        self.db.add(Shipment(kind="gift", source_ref=order.stripe_checkout_session_id,
                             stripe_customer_id=order.stripe_customer_id, plan_code=None,
                             week=iso_week(event["created"]), box_number=1))

    def checkout_completed(self, event: Obj, session: Obj) -> None:
        if not self.is_gift(session):
            return
        paid = session.get("payment_status") in ("paid", "no_payment_required")
        order = self.gift(event, session, "paid" if paid else "awaiting_payment")
        if self.variant == "ship_on_checkout_completed":
            # BUG: "completed means paid" - packs the box while a bank debit is processing
            self.ship_gift(order, event)

    def checkout_async_succeeded(self, event: Obj, session: Obj) -> None:
        if self.is_gift(session):
            self.gift(event, session, "paid")

    def checkout_async_failed(self, event: Obj, session: Obj) -> None:
        if self.is_gift(session):
            self.gift(event, session, "payment_failed")

    # -- refunds -------------------------------------------------------------------------
    def charge_refunded(self, event: Obj, charge: Obj) -> None:
        if self.variant == "ignore_refunds":  # BUG: refunds never reach the packing list
            return
        amount = charge.get("amount_refunded") or 0
        if self.variant == "refund_in_major_units":
            amount = amount / 100  # BUG: "amount in pounds/euros"
        note = self.db.scalar(select(RefundNote).where(
            RefundNote.stripe_charge_id == charge["id"]))
        if note is None:
            note = RefundNote(stripe_charge_id=charge["id"], amount=amount,
                              currency=charge["currency"])
            self.db.add(note)
        elif self.variant == "trust_arrival_order":
            note.amount = amount  # BUG: an older, smaller total may land last
        else:
            note.amount = max(note.amount, amount)  # amount_refunded only grows
        note.stripe_payment_intent_id = (note.stripe_payment_intent_id
                                         or self._id(charge.get("payment_intent")))
        if self.variant != "newest_shape_only":  # BUG: the old `charge.invoice` is ignored
            # Old API versions name the invoice on the charge; new ones only through the
            # invoice_payment objects (settle_refunds looks there).
            note.stripe_invoice_id = note.stripe_invoice_id or self._id(charge.get("invoice"))

    def settle_refunds(self) -> None:
        """Mark what each refund note is for as refunded, once that is known."""
        self.db.flush()
        for note in self.db.scalars(select(RefundNote).order_by(RefundNote.id)).all():
            pi = note.stripe_payment_intent_id
            order = pi and self.db.scalar(select(GiftOrder).where(
                GiftOrder.stripe_payment_intent_id == pi))
            if order:
                order.status = "refunded"
                note.target_kind, note.target_ref = "gift_order", order.stripe_checkout_session_id
                self._mark_refunded("gift", order.stripe_checkout_session_id)
                continue
            invoice_id = note.stripe_invoice_id
            if invoice_id is None and pi:
                invoice_id = self.db.scalar(select(InvoicePayment.stripe_invoice_id).where(
                    InvoicePayment.stripe_payment_intent_id == pi)) or self.db.scalar(
                    select(PaidInvoice.stripe_invoice_id).where(
                        PaidInvoice.stripe_payment_intent_id == pi))
            if invoice_id:
                note.stripe_invoice_id = invoice_id
                note.target_kind, note.target_ref = "shipment", invoice_id
                self._mark_refunded("box", invoice_id)

    def _mark_refunded(self, kind: str, ref: str) -> None:
        for shipment in self.db.scalars(select(Shipment).where(
                Shipment.kind == kind, Shipment.source_ref == ref)).all():
            shipment.status = "refunded"


def book_pallet_slot(customer: str | None, week: str, boxes: int) -> str:
    from .courier import book_pallet_slot as book

    return book(customer, week, boxes)


HANDLERS: dict[str, Callable[[Processor, Obj, Obj], None]] = {
    "customer.created": Processor.customer,
    "customer.updated": Processor.customer,
    "customer.subscription.created": Processor.subscription,
    "customer.subscription.updated": Processor.subscription,
    "customer.subscription.deleted": Processor.subscription,
    "invoice.paid": Processor.invoice_paid,
    "invoice.payment_failed": Processor.invoice_payment_failed,
    "invoice_payment.paid": Processor.invoice_payment_paid,
    "checkout.session.completed": Processor.checkout_completed,
    "checkout.session.async_payment_succeeded": Processor.checkout_async_succeeded,
    "checkout.session.async_payment_failed": Processor.checkout_async_failed,
    "charge.refunded": Processor.charge_refunded,
}
