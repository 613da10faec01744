"""Refunds: full or partial, by charge or payment_intent, with their balance movements.

Card and cash-balance refunds succeed at once; bank-debit and voucher refunds are
``pending`` for `SETTLE_DAYS` then ``succeeded``. A refund takes its amount out of the
balance at once (``refund`` balance transaction, no fee returned) and updates the charge
(``amount_refunded``, ``refunded``, ``refunds``). Events on creation: ``refund.created``,
``charge.refunded``.

A charge paid with ``pm_card_refundFail`` (card 4000000000005126) accepts the refund
(``succeeded``) and sees it fail `FAIL_AFTER` later, through due work: status ``failed``,
``failure_reason = expired_or_canceled_card``, a ``refund_failure`` balance transaction
giving the money back (``failure_balance_transaction``), the charge's refunded amount
restored, and the events ``refund.updated``, ``refund.failed`` and
``charge.refund.updated`` (Stripe's current names: ``refund.*`` for every refund,
``charge.refund.updated`` kept for older integrations).
"""

from __future__ import annotations

import copy

from core.money import Money
from sandbox.replica import crud
from sandbox.replica.context import Ctx, public
from sandbox.replica.crud import check_params
from sandbox.replica.errors import ApiError, invalid_param
from sandbox.replica.forms import as_int
from sandbox.replica.listing import list_object, parse_page_query
from sandbox.replica.registry import Obj, Params, Registry, ResourceSpec
from sandbox.replica.resources import balance_transactions, charges

DAY = 86_400
FAIL_AFTER = DAY
SETTLE_DAYS = 2
_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
_INSTANT = frozenset({"card", "customer_balance"})
_CREATE = frozenset({"charge", "payment_intent", "amount", "reason", "metadata",
                     "instructions_email", "refund_application_fee", "reverse_transfer",
                     "origin", "customer", "currency"})


def _charge_of(ctx: Ctx, params: Params) -> Obj:
    if params.get("charge"):
        return charges.load(ctx, str(params["charge"]))
    if not params.get("payment_intent"):
        raise ApiError(400, "One of the following params should be provided for this request: "
                       "payment_intent or charge.")
    pi = ctx.get(str(params["payment_intent"]), "payment_intent", param="payment_intent")
    if pi["status"] != "succeeded" or not pi.get("latest_charge"):
        raise ApiError(400, f"This PaymentIntent ({pi['id']}) does not have a successful charge "
                       "to refund.", code="charge_not_refundable", param="payment_intent")
    return charges.load(ctx, pi["latest_charge"])


def _money(amount: int, currency: str) -> str:
    return Money(amount=amount, currency=currency).format()


def _destination(kind: str) -> Obj:
    if kind == "card":
        return {"card": {"reference": None, "reference_status": "pending",
                         "reference_type": "acquirer_reference_number", "type": "refund"},
                "type": "card"}
    return {kind: {}, "type": kind}


def _sync(ctx: Ctx, charge: Obj, refund: Obj) -> None:
    """Keep the charge's embedded ``refunds`` list in step with `refund`."""
    data = [r for r in charge["refunds"]["data"] if r["id"] != refund["id"]]
    charge["refunds"]["data"] = ([public(refund)] + data)[:10]
    charge["refunds"]["has_more"] = len(data) >= 10
    ctx.replace(charge)


def _create(ctx: Ctx, params: Params) -> Obj:
    check_params(params, _CREATE)
    charge = _charge_of(ctx, params)
    if charge["status"] != "succeeded" or not charge["captured"]:
        raise ApiError(400, f"Charge {charge['id']} has not succeeded and cannot be refunded.",
                       code="charge_not_refundable", param="charge")
    if charge.get("disputed"):
        raise ApiError(400, f"Charge {charge['id']} has been charged back; cannot issue a "
                       "refund.", code="charge_disputed", param="charge")
    remaining = charge["amount_captured"] - charge["amount_refunded"]
    if remaining <= 0:
        raise ApiError(400, f"Charge {charge['id']} has already been refunded.",
                       code="charge_already_refunded", param="charge")
    amount = as_int(params, "amount", default=remaining)
    if amount is None or amount <= 0:
        raise invalid_param("amount", "Refund amount must be a positive integer.")
    currency = charge["currency"]
    if amount > remaining:
        raise ApiError(400, f"Refund amount ({_money(amount, currency)}) is greater than "
                       f"unrefunded amount on charge ({_money(remaining, currency)})",
                       code="amount_too_large", param="amount")
    reason = params.get("reason") or None
    if reason is not None and reason not in _REASONS:
        raise invalid_param("reason", "Invalid reason: must be one of " + ", ".join(_REASONS))
    kind = charge["_method_type"]
    refund = ctx.new_object("refund")
    refund.update(
        amount=amount, charge=charge["id"], currency=currency, customer=None,
        customer_account=None, destination_details=_destination(kind),
        metadata={str(k): str(v) for k, v in (params.get("metadata") or {}).items()},
        payment_intent=charge.get("payment_intent"), payment_method=None, reason=reason,
        receipt_number=None, source_transfer_reversal=None,
        status="succeeded" if kind in _INSTANT else "pending", transfer_reversal=None,
    )
    txn = balance_transactions.record(
        ctx, amount=-amount, currency=currency, type="refund", source=refund["id"],
        description=f"REFUND FOR CHARGE ({charge.get('description') or charge['id']})",
        source_type=balance_transactions.source_type(kind))
    refund["balance_transaction"] = txn["id"]
    ctx.insert(refund)
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
    _sync(ctx, charge, refund)
    ctx.emit("refund.created", refund)
    ctx.emit("charge.refunded", charge)
    if refund["status"] == "pending":
        ctx.schedule(ctx.now() + SETTLE_DAYS * DAY, "refund.settles", {"id": refund["id"]})
    elif charge.get("_outcome") == "refund_fail":
        ctx.schedule(ctx.now() + FAIL_AFTER, "refund.fails", {"id": refund["id"]})
    return refund


def _change(ctx: Ctx, refund: Obj, **changes: object) -> None:
    before = copy.deepcopy(refund)
    refund.update(changes)
    ctx.replace(refund)
    previous = {k: before.get(k) for k in changes if before.get(k) != refund.get(k)}
    ctx.emit("refund.updated", refund, previous=previous)


def _settles(ctx: Ctx, payload: Obj) -> None:
    refund = ctx.find(payload["id"])
    if refund is None or refund.get("status") != "pending":
        return
    _change(ctx, refund, status="succeeded")
    _sync(ctx, charges.load(ctx, refund["charge"]), refund)
    ctx.emit("charge.refund.updated", refund)


def _fails(ctx: Ctx, payload: Obj) -> None:
    refund = ctx.find(payload["id"])
    if refund is None or refund.get("status") != "succeeded":
        return
    charge = charges.load(ctx, refund["charge"])
    txn = balance_transactions.record(
        ctx, amount=refund["amount"], currency=refund["currency"], type="refund_failure",
        source=refund["id"], description="REFUND FAILURE",
        source_type=balance_transactions.source_type(charge["_method_type"]))
    _change(ctx, refund, status="failed", failure_reason="expired_or_canceled_card",
            failure_balance_transaction=txn["id"])
    charge["amount_refunded"] -= refund["amount"]
    charge["refunded"] = False
    _sync(ctx, charge, refund)
    ctx.emit("refund.failed", refund)
    ctx.emit("charge.refund.updated", refund)


def _charge_refunds(ctx: Ctx, params: Params, charge: str) -> Obj:
    check_params(params, frozenset({"limit", "starting_after", "ending_before"}))
    charges.load(ctx, charge, param="charge")
    query = parse_page_query(params)
    query.types = ["refund"]
    query.filters["charge"] = charge
    return list_object(f"/v1/charges/{charge}/refunds", ctx.engine.store.list(ctx.account,
                                                                                query))


SPEC = ResourceSpec(
    object="refund",
    path="/v1/refunds",
    fields=frozenset({"metadata"}),
    update_params=frozenset({"metadata"}),
    filters={"charge": "charge", "payment_intent": "payment_intent"},
    operations=frozenset({"list", "retrieve", "update"}),
    events=frozenset({"updated"}),
)


def load(ctx: Ctx, refund_id: str) -> Obj:
    return crud.load(ctx, SPEC, refund_id)


def register(reg: Registry) -> None:
    reg.resource(SPEC)
    reg.route("POST", SPEC.path, _create)
    reg.route("GET", "/v1/charges/{charge}/refunds", _charge_refunds)
    reg.on_due("refund.settles", _settles)
    reg.on_due("refund.fails", _fails)
