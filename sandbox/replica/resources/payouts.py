"""Payouts: money from the available balance to the bank, pending → in_transit → paid.

``POST /v1/payouts`` (manual payout) checks the available balance of the currency
(``balance_insufficient`` otherwise), books a ``payout`` balance transaction at once and
emits ``payout.created``; due work moves it to ``in_transit`` an hour later
(``payout.updated``) and to ``paid`` on ``arrival_date`` — the first 00:00 UTC at least
two days later, or at once for ``method=instant`` (``payout.updated``, ``payout.paid``).
``POST /v1/payouts/{id}/cancel`` cancels a pending payout (``payout_cancel`` transaction).

Which balance transactions a payout covers (``GET /v1/balance_transactions?payout=po_…``):
for a manual payout only its own ``payout`` transaction, as Stripe (it cannot say which
charges a manual payout contains); for an automatic payout every available transaction it
swept plus its own, so the payout amount equals the sum of the swept ``net``s.
``POST /_replica/test_helpers/payouts/automatic`` (``currency``) runs the automatic
schedule once: it sweeps the available, not yet paid out transactions of that currency.
"""

from __future__ import annotations

import copy
import json

from core.money import Money, UnknownCurrency
from sandbox.replica import crud
from sandbox.replica.context import Ctx
from sandbox.replica.crud import check_params
from sandbox.replica.errors import ApiError, invalid_param
from sandbox.replica.forms import as_int
from sandbox.replica.registry import Obj, Params, Registry, ResourceSpec
from sandbox.replica.resources import balance, balance_transactions

DAY = 86_400
IN_TRANSIT_AFTER = 3600
ARRIVAL_DAYS = 2
DESTINATION = "ba_1FdeSandboxBankAcct00000"
_CREATE = frozenset({"amount", "currency", "description", "destination", "metadata", "method",
                     "source_type", "statement_descriptor", "payout_method"})
_NOT_SWEPT = frozenset({"payout", "payout_cancel", "payout_failure"})


def _insufficient(currency: str) -> ApiError:
    return ApiError(
        400, "You have insufficient funds in your Stripe account for this transfer. Your "
        f"{currency.upper()} balance is too low. You can use the /v1/balance endpoint to view "
        "your Stripe balance (for more details, see stripe.com/docs/api#balance).",
        code="balance_insufficient")


def _make(ctx: Ctx, amount: int, currency: str, params: Params, *, automatic: bool) -> Obj:
    now = ctx.now()
    instant = params.get("method") == "instant"
    payout = ctx.new_object("payout")
    payout.update(
        amount=amount, application_fee=None, application_fee_amount=None,
        arrival_date=now if instant else ((now + ARRIVAL_DAYS * DAY) // DAY + 1) * DAY,
        automatic=automatic, currency=currency,
        description=params.get("description") or "STRIPE PAYOUT",
        destination=params.get("destination") or DESTINATION, failure_balance_transaction=None,
        failure_code=None, failure_message=None,
        metadata={str(k): str(v) for k, v in (params.get("metadata") or {}).items()},
        method="instant" if instant else "standard", original_payout=None,
        reconciliation_status="in_progress" if automatic else "not_applicable",
        reversed_by=None, source_type=params.get("source_type") or "card",
        statement_descriptor=params.get("statement_descriptor") or None, status="pending",
        type="bank_account", trace_id={"status": "pending", "value": None}, payout_method=None,
    )
    txn = balance_transactions.record(
        ctx, amount=-amount, currency=currency, type="payout", source=payout["id"],
        description=payout["description"], payout=payout["id"])
    payout["balance_transaction"] = txn["id"]
    ctx.insert(payout)
    ctx.emit("payout.created", payout)
    ctx.schedule(min(now + IN_TRANSIT_AFTER, payout["arrival_date"]), "payout.in_transit",
                 {"id": payout["id"]})
    ctx.schedule(payout["arrival_date"], "payout.paid", {"id": payout["id"]})
    return payout


def _currency(params: Params) -> str:
    currency = str(params.get("currency") or "").lower()
    try:
        Money(amount=0, currency=currency)
    except (UnknownCurrency, ValueError):
        raise invalid_param("currency", f"Invalid currency: {currency}.") from None
    return currency


def _create(ctx: Ctx, params: Params) -> Obj:
    check_params(params, _CREATE, ("amount", "currency"))
    amount = as_int(params, "amount")
    if amount is None or amount <= 0:
        raise invalid_param("amount", "Invalid positive integer")
    currency = _currency(params)
    if params.get("method") not in (None, "", "standard", "instant"):
        raise invalid_param("method", "method must be standard or instant")
    if amount > balance.available(ctx, currency):
        raise _insufficient(currency)
    return _make(ctx, amount, currency, params, automatic=False)


def _sweepable(ctx: Ctx, currency: str) -> list[Obj]:
    """The available, not yet paid out transactions of `currency` an automatic payout takes
    (in insertion order). SQLite picks them through the ``_payout`` index, so a sweep reads
    only what is still unpaid, not every transaction the account ever had."""
    not_swept = ", ".join(f"'{kind}'" for kind in sorted(_NOT_SWEPT))
    rows = ctx.engine.store.conn.execute(
        "SELECT data FROM objects WHERE account=? AND type='balance_transaction' AND deleted=0"
        " AND coalesce(json_extract(data, '$._payout'), '') = ''"
        " AND json_extract(data, '$.currency')=? AND json_extract(data, '$.status')='available'"
        f" AND json_extract(data, '$.type') NOT IN ({not_swept}) ORDER BY seq",
        (ctx.account, currency))
    return [json.loads(data) for (data,) in rows]


def _automatic(ctx: Ctx, params: Params) -> Obj:
    check_params(params, frozenset({"currency", "metadata"}))
    currency = _currency({"currency": params.get("currency") or "usd"})
    swept = _sweepable(ctx, currency)
    amount = sum(t["net"] for t in swept)
    if amount <= 0 or amount > balance.available(ctx, currency):
        raise _insufficient(currency)
    payout = _make(ctx, amount, currency, params, automatic=True)
    for txn in swept:
        txn["_payout"] = payout["id"]
        ctx.replace(txn)
    return payout


def _move(ctx: Ctx, payout: Obj, events: tuple[str, ...], **changes: object) -> None:
    before = copy.deepcopy(payout)
    payout.update(changes)
    ctx.replace(payout)
    previous = {k: before.get(k) for k in changes if before.get(k) != payout.get(k)}
    for event in events:
        ctx.emit(event, payout, previous=previous if event == "payout.updated" else None)


def _in_transit(ctx: Ctx, payload: Obj) -> None:
    payout = ctx.find(payload["id"])
    if payout is not None and payout.get("status") == "pending":
        _move(ctx, payout, ("payout.updated",), status="in_transit")


def _paid(ctx: Ctx, payload: Obj) -> None:
    payout = ctx.find(payload["id"])
    if payout is None or payout.get("status") not in ("pending", "in_transit"):
        return
    trace = {"status": "supported", "value": "FDE" + payout["id"][-12:].upper()}
    if payout["automatic"]:
        _move(ctx, payout, ("payout.updated", "payout.paid", "payout.reconciliation_completed"),
              status="paid", trace_id=trace, reconciliation_status="completed")
    else:
        _move(ctx, payout, ("payout.updated", "payout.paid"), status="paid", trace_id=trace)


def _cancel(ctx: Ctx, params: Params, id: str) -> Obj:
    check_params(params, frozenset())
    payout = crud.load(ctx, SPEC, id)
    if payout["status"] != "pending":
        raise ApiError(400, f"Payouts can only be canceled while they are pending; this one is "
                       f"{payout['status']}.", code="payout_not_cancelable")
    txn = balance_transactions.record(
        ctx, amount=payout["amount"], currency=payout["currency"], type="payout_cancel",
        source=payout["id"], description="Payout cancellation", payout=payout["id"])
    payout["_cancel_balance_transaction"] = txn["id"]
    _move(ctx, payout, ("payout.updated", "payout.canceled"), status="canceled")
    return payout


SPEC = ResourceSpec(
    object="payout",
    path="/v1/payouts",
    fields=frozenset({"metadata"}),
    update_params=frozenset({"metadata"}),
    filters={"status": "status", "destination": "destination"},
    operations=frozenset({"list", "retrieve", "update"}),
    events=frozenset({"updated"}),
)


def register(reg: Registry) -> None:
    reg.resource(SPEC)
    reg.route("POST", SPEC.path, _create)
    reg.route("POST", SPEC.path + "/{id}/cancel", _cancel)
    reg.route("POST", "/_replica/test_helpers/payouts/automatic", _automatic)
    reg.on_due("payout.in_transit", _in_transit)
    reg.on_due("payout.paid", _paid)
