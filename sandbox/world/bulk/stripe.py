"""The Stripe side of the bulk history: one customer's settled subscription history as the
replica would have stored it, built from `exemplars` without running the engine.

A history customer signs up, attaches a card, subscribes to a flat or per-seat plan, renews
monthly (billing periods from `billing_periods.shift`, renewal invoices finalized and charged
an hour after the boundary, as `subscription_cycle` does), and cancels before the window.
Every invoice is paid by card: invoice → invoice_payment → PaymentIntent → charge → balance
transaction, fees from `fees.processing_fee`. Events carry the snapshot each step emits.
Objects are never mutated after an event snapshot took them: states are fresh dicts. Objects
start as `Exemplars.shallow` copies, whose nested values are shared with the exemplar (and
between objects): nested changes are new dicts (``{**nested, ...}``), never in-place updates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.replica.context import public
from sandbox.replica.ids import IdFactory
from sandbox.replica.resources.balance_transactions import CHARGE_DELAY_DAYS, fee_detail
from sandbox.replica.resources.billing_periods import shift
from sandbox.replica.resources.fees import processing_fee
from sandbox.replica.resources.invoice_lines import describe
from sandbox.replica.resources.subscription_items import plan_of
from sandbox.world.bulk.exemplars import Exemplars
from sandbox.world.company import Place
from sandbox.world.config import DAY

Obj = dict[str, Any]
FINALIZE_AFTER = 3600  # renewal drafts finalize (and charge) an hour after the boundary
UPCOMING_BEFORE = 3 * DAY
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


@dataclass
class Plan:
    """One history customer, decided by the caller (times are unix seconds)."""

    index: int
    place: Place
    price: Obj
    product_name: str
    quantity: int
    signup: int
    subscribe: int
    invoices: int  # how many monthly invoices were paid
    cancel: int


@dataclass
class Out:
    objects: list[Obj] = field(default_factory=list)
    events: list[Obj] = field(default_factory=list)


class HistoryBuilder:
    def __init__(self, ex: Exemplars, ids: IdFactory, *, api_version: str, platform: str) -> None:
        self.ex, self.ids = ex, ids
        self.api_version, self.platform = api_version, platform

    # -- events ----------------------------------------------------------------------------
    def _event(self, out: Out, kind: str, obj: Obj, at: int, request: str | None,
               previous: Obj | None = None) -> None:
        data: Obj = {"object": public(obj)}
        if previous is not None:
            data["previous_attributes"] = previous
        out.events.append({
            "id": self.ids.new("event"), "object": "event", "api_version": self.api_version,
            "created": at, "data": data, "livemode": False, "pending_webhooks": 0,
            "request": {"id": request, "idempotency_key": None}, "type": kind})

    def _request(self) -> str:
        return "req_" + self.ids.token(14, "0123456789abcdefABCDEF")

    # -- one customer ----------------------------------------------------------------------
    def customer(self, p: Plan, out: Out) -> None:
        first = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald")[p.index % 6]
        email = f"{first}.hist{p.index}@history.{p.place.domain}".lower()
        cus = self.ex.shallow("customer")
        cus.update(
            id=self.ids.new("customer"), created=p.signup, email=email,
            name=f"{first} History {p.place.country}", currency=None,
            address={"city": p.place.city, "country": p.place.country,
                     "line1": f"{p.index} Archive St", "line2": None, "postal_code": None,
                     "state": None},
            preferred_locales=["en"], invoice_prefix=self.ids.token(8),
            metadata={"user_id": f"hist_{p.index:06d}", "country": p.place.country},
            next_invoice_sequence=1)
        cus["invoice_settings"] = {**cus["invoice_settings"], "default_payment_method": None}
        self._event(out, "customer.created", cus, p.signup, self._request())
        pm = self.ex.shallow("payment_method")
        pm.update(id=self.ids.new("payment_method"), created=p.subscribe - 2,
                  customer=cus["id"])
        out.objects += [pm]
        self._event(out, "payment_method.attached", pm, p.subscribe - 2, self._request())
        settings = {**cus["invoice_settings"], "default_payment_method": pm["id"]}
        cus = {**cus, "invoice_settings": settings}
        self._event(out, "customer.updated", cus, p.subscribe - 1, self._request(),
                    {"invoice_settings": {"default_payment_method": None}})
        self._subscription(p, cus, pm, out)

    def _subscription(self, p: Plan, cus: Obj, pm: Obj, out: Out) -> None:
        anchor = p.subscribe
        bounds = [shift(anchor, "month", 1, k) for k in range(p.invoices + 1)]
        sub_id, item_id = self.ids.new("subscription"), self.ids.new("subscription_item")
        price = public(p.price)
        base = self.ex.shallow("subscription")
        base.update(id=sub_id, created=anchor, customer=cus["id"], currency=p.place.currency,
                    billing_cycle_anchor=anchor, start_date=anchor, canceled_at=None,
                    ended_at=None, metadata={"user_id": f"hist_{p.index:06d}"},
                    cancellation_details={"comment": None, "feedback": None, "reason": None},
                    _anchor=anchor, _prices=price["id"])
        item_base = self.ex.shallow("subscription_item")
        item_base.update(id=item_id, created=anchor, price=price, plan=plan_of(price),
                         quantity=p.quantity, subscription=sub_id)
        base["items"] = {**base["items"], "url": f"/v1/subscription_items?subscription={sub_id}"}

        def state(k: int, invoice: str, status: str) -> Obj:
            item = {**item_base, "current_period_start": bounds[k],
                    "current_period_end": shift(anchor, "month", 1, k + 1)}
            return {**base, "items": {**base["items"], "data": [item]},
                    "latest_invoice": invoice, "status": status,
                    "_period": [bounds[k], item["current_period_end"]],
                    "_scheduled": {"renew": item["current_period_end"],
                                   "upcoming": item["current_period_end"] - UPCOMING_BEFORE}}

        total = int(price["unit_amount"]) * p.quantity
        sequence = 1
        current: Obj = {}
        item_at = -1
        for k in range(p.invoices):
            created = bounds[k]
            paid = created if k == 0 else created + FINALIZE_AFTER
            inv_id = self.ids.new("invoice")
            if k == 0:
                current = state(0, inv_id, "incomplete")
                item_at = len(out.objects)  # the item's row, filled in once it is final
                out.objects.append(item_base)
                req = self._request()
                self._event(out, "customer.subscription.created", current, created, req)
            else:
                before = current
                current = state(k, inv_id, "active")
                req = None
                self._event(out, "customer.subscription.updated", current, created, None,
                            {"items": {"data": before["items"]["data"]},
                             "latest_invoice": before["latest_invoice"]})
            period = (created, created) if k == 0 else (bounds[k - 1], created)
            self._invoice(out, p, cus, pm, current, inv_id, k, period, total, sequence,
                          created, paid, req)
            sequence += 1
            if k == 0:
                before = current
                current = {**current, "status": "active"}
                self._event(out, "customer.subscription.updated", current, created, req,
                            {"status": "incomplete"})
        final = {**current, "status": "canceled", "canceled_at": p.cancel, "ended_at": p.cancel,
                 "cancellation_details": {"comment": None, "feedback": None,
                                          "reason": "cancellation_requested"}}
        self._event(out, "customer.subscription.deleted", final, p.cancel, self._request(),
                    {"status": "active", "canceled_at": None, "ended_at": None})
        item_final = {**item_base, **final["items"]["data"][0]}
        out.objects[item_at] = item_final
        cus_final = {**cus, "currency": p.place.currency, "next_invoice_sequence": sequence}
        out.objects.insert(0, cus_final)
        out.objects.append(final)

    def _invoice(self, out: Out, p: Plan, cus: Obj, pm: Obj, sub: Obj, inv_id: str, k: int,
                 period: tuple[int, int], total: int, sequence: int, created: int, paid: int,
                 req: str | None) -> None:
        currency = p.place.currency
        price = sub["items"]["data"][0]["price"]
        item = sub["items"]["data"][0]
        inv = self.ex.shallow("invoice.subscription_create" if k == 0 else
                              "invoice.subscription_cycle")
        token = self.ids.token(24, _ALNUM)
        lines = inv["lines"]
        line = dict(lines["data"][0])
        line.update(
            amount=total, currency=currency, id=self.ids.new("line_item"), invoice=inv_id,
            description=describe(p.quantity, p.product_name, price),
            period={"start": item["current_period_start"], "end": item["current_period_end"]},
            quantity=p.quantity, subscription=sub["id"], subtotal=total,
            quantity_decimal=str(p.quantity))
        parent = line["parent"]
        line["parent"] = {**parent, "subscription_item_details": {
            **parent["subscription_item_details"], "subscription": sub["id"],
            "subscription_item": item["id"]}}
        line["pricing"] = {"type": "price_details",
                           "price_details": {"price": price["id"], "product": price["product"]},
                           "unit_amount_decimal": price["unit_amount_decimal"]}
        host = self.platform
        inv.update(
            id=inv_id, created=created, currency=currency, customer=cus["id"],
            customer_address=cus["address"], customer_email=cus["email"],
            customer_name=cus["name"], amount_due=total, amount_paid=total, amount_remaining=0,
            subtotal=total, subtotal_excluding_tax=total, total=total, total_excluding_tax=total,
            effective_at=paid, period_start=period[0], period_end=period[1],
            number=f"{cus['invoice_prefix']}-{sequence:04d}",
            hosted_invoice_url=f"https://invoice.stripe.com/i/{host}/test_{token}",
            invoice_pdf=f"https://pay.stripe.com/invoice/{host}/test_{token}/pdf?s=ap",
            status_transitions={"finalized_at": paid, "marked_uncollectible_at": None,
                                "paid_at": paid, "voided_at": None},
            parent={**inv["parent"], "subscription_details": {
                "metadata": sub["metadata"], "subscription": sub["id"]}},
            automatically_finalizes_at=None)
        inv["lines"] = {**lines, "data": [line, *lines["data"][1:]],
                        "url": f"/v1/invoices/{inv_id}/lines"}
        unpaid = {"amount_paid": 0, "amount_remaining": total, "attempt_count": 0,
                  "attempted": False, "auto_advance": True, "status": "open",
                  "status_transitions": {**inv["status_transitions"], "paid_at": None}}
        draft = {**inv, **unpaid, "status": "draft", "effective_at": None,
                 "ending_balance": None, "hosted_invoice_url": None, "invoice_pdf": None,
                 "number": None,
                 "status_transitions": {key: None for key in inv["status_transitions"]}}
        if k:
            draft["automatically_finalizes_at"] = paid
        self._event(out, "invoice.created", draft, created, req)
        self._event(out, "invoice.finalized", {**inv, **unpaid}, paid, req)
        pi, charge, txn, link = self._payment(p, cus, pm, inv, k, paid, total)
        out.objects += [inv, pi, charge, txn, link]
        self._event(out, "payment_intent.created",
                    {**pi, "amount_received": 0, "latest_charge": None,
                     "status": "requires_confirmation"}, paid, req)
        self._event(out, "charge.succeeded", charge, paid, req)
        self._event(out, "payment_intent.succeeded", pi, paid, req)
        self._event(out, "invoice_payment.paid", link, paid, req)
        self._event(out, "invoice.paid", inv, paid, req,
                    {"status": "open", "amount_paid": 0, "amount_remaining": total})
        self._event(out, "invoice.payment_succeeded", inv, paid, req)

    def _payment(self, p: Plan, cus: Obj, pm: Obj, inv: Obj, k: int, at: int,
                 total: int) -> tuple[Obj, Obj, Obj, Obj]:
        currency = p.place.currency
        pi = self.ex.shallow("payment_intent.create" if k == 0 else "payment_intent.cycle")
        pi_id, ch_id = self.ids.new("payment_intent"), self.ids.new("charge")
        secret = self.ids.token(24, _ALNUM)
        pi.update(id=pi_id, amount=total, amount_received=total, created=at, currency=currency,
                  customer=cus["id"], latest_charge=ch_id, payment_method=pm["id"],
                  client_secret=f"{pi_id}_secret_{secret}", _invoice=inv["id"])
        txn = self.ex.shallow("balance_transaction.charge")
        fee = processing_fee(total, currency, "card")
        txn.update(id=self.ids.new("balance_transaction"), amount=total, created=at,
                   currency=currency, description=pi["description"], fee=fee,
                   fee_details=[fee_detail(fee, currency)] if fee else [], net=total - fee,
                   source=ch_id, status="available",
                   available_on=((at + CHARGE_DELAY_DAYS * DAY) // DAY + 1) * DAY,
                   _payout=None)
        charge = self.ex.shallow("charge")
        details = charge["payment_method_details"]
        card = {**details["card"], "amount_authorized": total}
        card["overcapture"] = {**card["overcapture"], "maximum_amount_capturable": total}
        charge["payment_method_details"] = {**details, "card": card}
        charge.update(id=ch_id, amount=total, amount_captured=total, amount_refunded=0,
                      balance_transaction=txn["id"], created=at, currency=currency,
                      customer=cus["id"], description=pi["description"], payment_intent=pi_id,
                      payment_method=pm["id"],
                      receipt_url=f"https://pay.stripe.com/receipts/payment/{pi_id}",
                      refunds={**charge["refunds"], "url": f"/v1/charges/{ch_id}/refunds"})
        link = self.ex.shallow("invoice_payment")
        link.update(id=self.ids.new("invoice_payment", prefix="inpay_"), amount_paid=total,
                    amount_requested=total, created=at, currency=currency, invoice=inv["id"],
                    payment={"type": "payment_intent", "payment_intent": pi_id},
                    status_transitions={"canceled_at": None, "paid_at": at})
        return pi, charge, txn, link


__all__ = ["HistoryBuilder", "Out", "Plan"]
