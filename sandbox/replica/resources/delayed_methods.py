"""Payment methods whose outcome arrives later: bank debits and cash vouchers.

Bank debits (``sepa_debit``, ``us_bank_account``): confirmation leaves the intent
``processing`` with a ``pending`` charge (``charge.pending``, ``payment_intent.processing``);
the bank answers after `DEBIT_DAYS` (SEPA 5 days, ACH 4 days) on the replica clock: the
charge succeeds (``charge.succeeded``, ``payment_intent.succeeded``, balance transaction)
or fails (``charge.failed``, ``payment_intent.payment_failed``, intent back to
``requires_payment_method``), as the PaymentMethod's test data decides.

Vouchers (``oxxo``, ``boleto``, ``konbini``): confirmation leaves the intent
``requires_action`` with ``next_action.<type>_display_details`` (``payment_intent.
requires_action``). The voucher expires at 23:59:59 local time (Mexico City UTC-6, São
Paulo UTC-3, Tokyo UTC+9) ``expires_after_days`` calendar days later (default 3; taken from
``payment_method_options[<type>][expires_after_days]``, Konbini also ``expires_at``).
Paid before then (``POST /_replica/test_helpers/payment_intents/{id}/pay_voucher``, or 3
minutes after confirmation for a ``*succeed_immediately@*`` billing email): the intent
succeeds with its charge. Expired (or 1 minute after confirmation for
``*expire_immediately@*``): ``payment_intent.payment_failed``, intent back to
``requires_payment_method`` with ``last_payment_error.code =
payment_intent_payment_attempt_expired`` and no charge — the failure Stripe reports for an
unpaid voucher; the merchant may then cancel it.
"""

from __future__ import annotations

import hashlib

from sandbox.replica.context import Ctx
from sandbox.replica.crud import check_params
from sandbox.replica.errors import ApiError, invalid_param
from sandbox.replica.forms import as_int
from sandbox.replica.registry import Obj, Params, Registry
from sandbox.replica.resources import charges, payment_flows
from sandbox.replica.resources import payment_method_catalog as catalog

DAY = 86_400
DEBIT_DAYS = {"sepa_debit": 5, "us_bank_account": 4}
DEBIT_FAILURES = {
    "sepa_debit": ("insufficient_funds",
                   "The customer's account has insufficient funds to cover this payment."),
    "us_bank_account": ("account_closed", "The customer's bank account has been closed."),
}
VOUCHER_DAYS = 3
VOUCHER_LIMITS = {"oxxo": (1, 7), "boleto": (0, 60), "konbini": (1, 60)}
UTC_OFFSET = {"oxxo": -6 * 3600, "boleto": -3 * 3600, "konbini": 9 * 3600}
TEST_PAYS_AFTER = 180
TEST_EXPIRES_AFTER = 60


def start(ctx: Ctx, pi: Obj, pm: Obj) -> None:
    if pm["type"] in catalog.DEBITS:
        _start_debit(ctx, pi, pm)
    else:
        _start_voucher(ctx, pi, pm)


# -- bank debits ----------------------------------------------------------------------------
def _start_debit(ctx: Ctx, pi: Obj, pm: Obj) -> None:
    charge = charges.create(ctx, pi, pm, status="pending")
    ctx.emit("charge.pending", charge)
    pi.update(status="processing", latest_charge=charge["id"])
    ctx.replace(pi)
    ctx.emit("payment_intent.processing", pi)
    ctx.schedule(ctx.now() + DEBIT_DAYS[pm["type"]] * DAY, "payment_intent.debit_settles",
                 {"id": pi["id"]})


def _debit_settles(ctx: Ctx, payload: Obj) -> None:
    pi = ctx.find(payload["id"])
    if pi is None or pi.get("status") != "processing":
        return
    pm = ctx.get(pi["payment_method"], "payment_method")
    charge = charges.load(ctx, pi["latest_charge"])
    if pm.get("_outcome") == "debit_fail":
        code, message = DEBIT_FAILURES[pm["type"]]
        payment_flows.fail(ctx, pi, pm, code=code, message=message, charge=charge)
    else:
        payment_flows.succeed(ctx, pi, pm, charge)


# -- vouchers -------------------------------------------------------------------------------
def _expires_at(kind: str, now: int, days: int) -> int:
    """23:59:59 local time, `days` calendar days after `now`'s local date."""
    offset = UTC_OFFSET[kind]
    local_day = (now + offset) // DAY + days
    return (local_day + 1) * DAY - 1 - offset


def _number(pi: Obj, digits: int) -> str:
    return str(int(hashlib.sha256(pi["id"].encode()).hexdigest(), 16))[:digits]


def _next_action(kind: str, pi: Obj, expires_at: int) -> Obj:
    url = f"https://payments.stripe.com/{kind}/voucher/test_{pi['id']}"
    if kind == "oxxo":
        details: Obj = {"expires_after": expires_at, "hosted_voucher_url": url,
                        "number": _number(pi, 18)}
    elif kind == "boleto":
        details = {"expires_at": expires_at, "hosted_voucher_url": url,
                   "number": _number(pi, 47), "pdf": url + "/pdf"}
    else:
        store = {"confirmation_number": _number(pi, 11), "payment_code": _number(pi, 6)}
        details = {"expires_at": expires_at, "hosted_voucher_url": url,
                   "stores": {s: dict(store) for s in ("familymart", "lawson", "ministop",
                                                       "seicomart")}}
    return {"type": f"{kind}_display_details", f"{kind}_display_details": details}


def _start_voucher(ctx: Ctx, pi: Obj, pm: Obj) -> None:
    kind = pm["type"]
    options = (pi.get("payment_method_options") or {}).get(kind) or {}
    param = f"payment_method_options[{kind}][expires_after_days]"
    days = as_int(options, "expires_after_days", default=VOUCHER_DAYS)
    low, high = VOUCHER_LIMITS[kind]
    if days is None or not low <= days <= high:
        raise invalid_param(param, f"expires_after_days must be between {low} and {high}.")
    now = ctx.now()
    expires_at = _expires_at(kind, now, days)
    if kind == "konbini" and options.get("expires_at"):
        expires_at = as_int(options, "expires_at") or expires_at
    pi["_voucher_expires_at"] = expires_at
    payment_flows.require_action(ctx, pi, _next_action(kind, pi, expires_at))
    ctx.schedule(expires_at + 1, "payment_intent.voucher_expires", {"id": pi["id"]})
    if pm.get("_outcome") == "voucher_pays":
        ctx.schedule(now + TEST_PAYS_AFTER, "payment_intent.voucher_paid", {"id": pi["id"]})
    elif pm.get("_outcome") == "voucher_expires":
        ctx.schedule(now + TEST_EXPIRES_AFTER, "payment_intent.voucher_expires",
                     {"id": pi["id"], "early": True})


def _open_voucher(ctx: Ctx, pi: Obj | None) -> Obj | None:
    """The voucher PaymentMethod of an intent still waiting for the customer, else None."""
    if pi is None or pi.get("status") != "requires_action" or not pi.get("payment_method"):
        return None
    pm = ctx.get(pi["payment_method"], "payment_method")
    return pm if pm["type"] in catalog.VOUCHERS else None


def pay(ctx: Ctx, pi: Obj) -> Obj:
    """The customer paid the voucher at the store."""
    pm = _open_voucher(ctx, pi)
    if pm is None:
        raise ApiError(400, f"PaymentIntent {pi['id']} has no open voucher to pay (status "
                       f"{pi['status']}).", code="payment_intent_unexpected_state")
    if ctx.now() > pi.get("_voucher_expires_at", 0):
        raise ApiError(400, "This voucher has expired and can no longer be paid.",
                       code="payment_intent_unexpected_state")
    number = ((pi.get("next_action") or {}).get("oxxo_display_details") or {}).get("number")
    payment_flows.succeed(ctx, pi, pm, voucher_number=number)
    return pi


def _voucher_paid(ctx: Ctx, payload: Obj) -> None:
    pi = ctx.find(payload["id"])
    if _open_voucher(ctx, pi) is not None:
        pay(ctx, pi)


def _voucher_expires(ctx: Ctx, payload: Obj) -> None:
    pi = ctx.find(payload["id"])
    pm = _open_voucher(ctx, pi)
    if pm is None or pi is None:
        return
    if not payload.get("early") and ctx.now() <= pi.get("_voucher_expires_at", 0):
        return
    payment_flows.fail(
        ctx, pi, pm, code="payment_intent_payment_attempt_expired",
        message="The latest attempt to pay this PaymentIntent has expired: the customer did not "
        f"pay the {pm['type']} voucher in time. Provide a new payment method to try again.",
        error_type="invalid_request_error", with_charge=False)


def _pay_voucher(ctx: Ctx, params: Params, id: str) -> Obj:
    check_params(params, frozenset())
    return pay(ctx, ctx.get(id, "payment_intent"))


def register(reg: Registry) -> None:
    reg.on_due("payment_intent.debit_settles", _debit_settles)
    reg.on_due("payment_intent.voucher_paid", _voucher_paid)
    reg.on_due("payment_intent.voucher_expires", _voucher_expires)
    reg.route("POST", "/_replica/test_helpers/payment_intents/{id}/pay_voucher", _pay_voucher)
