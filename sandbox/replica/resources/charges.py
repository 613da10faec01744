"""Charges: made by PaymentIntent confirmations, never created directly here.

`create` records an attempt (succeeded, pending for bank debits, or failed), `settle`
and `fail` finish a pending one, `capture` captures an authorised card charge. A captured
charge gets its ``charge`` balance transaction with the fee of `fees`. The caller emits
``charge.succeeded/.pending/.failed/.captured`` (it knows the order Stripe uses);
``POST /v1/charges/{id}`` (description, metadata, …) emits ``charge.updated``.
The PaymentMethod's test ``_outcome`` is copied to the charge (refunds and disputes read
it later).
"""

from __future__ import annotations

from sandbox.replica.context import Ctx
from sandbox.replica.errors import ApiError
from sandbox.replica.registry import Obj, Registry, ResourceSpec
from sandbox.replica.resources import balance_transactions

_WRITABLE = frozenset({"description", "fraud_details", "metadata", "receipt_email", "shipping",
                       "transfer_group"})
_APPROVED = {"advice_code": None, "network_advice_code": None, "network_decline_code": None,
             "network_status": "approved_by_network", "reason": None, "risk_level": "normal",
             "risk_score": 32, "seller_message": "Payment complete.", "type": "authorized"}


def _declined(reason: str | None) -> Obj:
    return _APPROVED | {
        "network_status": "declined_by_network", "reason": reason, "type": "issuer_declined",
        "seller_message": "The bank did not return any further details with this decline.",
    }


def payment_method_details(pm: Obj, amount: int, *, voucher_number: str | None = None) -> Obj:
    kind = pm["type"]
    src = pm.get(kind) or {}
    if kind == "card":
        details: Obj = {
            "amount_authorized": amount, "authorization_code": "123456",
            "brand": src["brand"], "checks": src["checks"], "country": src["country"],
            "exp_month": src["exp_month"], "exp_year": src["exp_year"],
            "extended_authorization": {"status": "disabled"}, "fingerprint": src["fingerprint"],
            "funding": src["funding"], "incremental_authorization": {"status": "unavailable"},
            "installments": None, "last4": src["last4"], "mandate": None,
            "multicapture": {"status": "unavailable"}, "network": src["brand"],
            "network_token": {"used": False}, "network_transaction_id": "1041234567890123",
            "overcapture": {"maximum_amount_capturable": amount, "status": "unavailable"},
            "regulated_status": src.get("regulated_status"), "three_d_secure": None,
            "transaction_link_id": None, "wallet": None,
        }
    elif kind == "sepa_debit":
        details = {k: src.get(k) for k in ("bank_code", "branch_code", "country", "fingerprint",
                                           "last4")} | {"mandate": None}
    elif kind == "us_bank_account":
        details = {k: src.get(k) for k in ("account_holder_type", "account_type", "bank_name",
                                           "fingerprint", "last4", "routing_number")}
        details |= {"mandate": None, "payment_reference": None}
    elif kind == "oxxo":
        details = {"number": voucher_number}
    elif kind == "boleto":
        details = {"tax_id": src.get("tax_id")}
    elif kind == "konbini":
        details = {"store": {"chain": "familymart"}}
    else:
        details = {}
    return {kind: details, "type": kind}


def create(ctx: Ctx, pi: Obj, pm: Obj, *, status: str, captured: bool = True,
           failure: tuple[str, str, str | None] | None = None,
           voucher_number: str | None = None) -> Obj:
    """Record a charge of `pi` with `pm` (and its balance transaction when captured)."""
    charge = ctx.new_object("charge")
    amount = pi["amount"]
    charge.update(
        amount=amount, amount_captured=amount if captured and status == "succeeded" else 0,
        amount_refunded=0, application=None, application_fee=None,
        application_fee_amount=None, balance_transaction=None,
        billing_details=pm["billing_details"], calculated_statement_descriptor="FDE SANDBOX",
        captured=captured and status != "failed", currency=pi["currency"],
        customer=pi.get("customer"), description=pi.get("description"), disputed=False,
        failure_balance_transaction=None, failure_code=None, failure_message=None,
        fraud_details={}, metadata=dict(pi.get("metadata") or {}), on_behalf_of=None,
        outcome=dict(_APPROVED), paid=status == "succeeded", payment_intent=pi["id"],
        payment_method=pm["id"],
        payment_method_details=payment_method_details(pm, amount, voucher_number=voucher_number),
        receipt_email=pi.get("receipt_email"), receipt_number=None,
        receipt_url=f"https://pay.stripe.com/receipts/payment/{pi['id']}", refunded=False,
        review=None, shipping=pi.get("shipping"), source_transfer=None,
        statement_descriptor=pi.get("statement_descriptor"),
        statement_descriptor_suffix=pi.get("statement_descriptor_suffix"), status=status,
        transfer_data=None, transfer_group=pi.get("transfer_group"), source=None,
    )
    charge["refunds"] = {"object": "list", "data": [], "has_more": False,
                         "url": f"/v1/charges/{charge['id']}/refunds"}
    charge["_outcome"] = pm.get("_outcome")
    charge["_method_type"] = pm["type"]
    if failure:
        code, message, decline_code = failure
        charge.update(failure_code=code, failure_message=message,
                      outcome=_declined(decline_code or code))
    ctx.insert(charge)
    if charge["amount_captured"]:
        _book(ctx, charge)
    return charge


def _book(ctx: Ctx, charge: Obj) -> None:
    txn = balance_transactions.for_charge(ctx, charge, charge["_method_type"])
    charge["balance_transaction"] = txn["id"]
    ctx.replace(charge)


def settle(ctx: Ctx, charge: Obj) -> Obj:
    """A pending charge (bank debit) succeeded: paid, captured, booked."""
    charge.update(status="succeeded", paid=True, captured=True,
                  amount_captured=charge["amount"])
    _book(ctx, charge)
    return charge


def fail(ctx: Ctx, charge: Obj, code: str, message: str) -> Obj:
    charge.update(status="failed", paid=False, captured=False, amount_captured=0,
                  failure_code=code, failure_message=message, outcome=_declined(code))
    ctx.replace(charge)
    return charge


def capture(ctx: Ctx, charge: Obj, amount: int) -> Obj:
    """Capture `amount` of an authorised card charge; the rest is released (refunded)."""
    charge.update(captured=True, amount_captured=amount,
                  amount_refunded=charge["amount"] - amount)
    _book(ctx, charge)
    return charge


def load(ctx: Ctx, charge_id: str, *, param: str = "charge") -> Obj:
    return ctx.get(charge_id, "charge", param=param)


def _prepare(ctx: Ctx, obj: Obj, params: Obj, creating: bool) -> None:
    if creating:  # pragma: no cover - charges are made by payment intents only
        raise ApiError(400, "Create charges with a PaymentIntent in this replica.")


SPEC = ResourceSpec(
    object="charge",
    path="/v1/charges",
    fields=_WRITABLE,
    update_params=_WRITABLE,
    filters={"customer": "customer", "payment_intent": "payment_intent",
             "transfer_group": "transfer_group"},
    prepare=_prepare,
    operations=frozenset({"list", "retrieve", "update"}),
    events=frozenset({"updated"}),
)


def register(reg: Registry) -> None:
    reg.resource(SPEC)
