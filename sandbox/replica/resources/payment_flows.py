"""How a PaymentIntent confirmation plays out, by payment method, and how it ends.

`confirm` checks the PaymentMethod against the intent, then hands over: cards settle here
(succeed, decline with a failed charge, or ask for 3-D Secure), bank debits and vouchers
go to `delayed_methods`, ``customer_balance`` to `bank_transfers`. `succeed`, `fail`,
`require_action` are the shared endings; each emits Stripe's events in Stripe's order
(``charge.*`` before ``payment_intent.*``) and final outcomes call `notify`, which tells
the invoice (``_invoice``, via ``invoices.payment_outcome`` when that exists) or the
Checkout Session (``_checkout_session``) that owns the intent.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from sandbox.replica.context import Ctx, public
from sandbox.replica.errors import ApiError
from sandbox.replica.registry import Obj
from sandbox.replica.resources import charges
from sandbox.replica.resources import payment_method_catalog as catalog

DECLINES: dict[str, tuple[str, str, str]] = {  # outcome -> (code, decline_code, message)
    "decline": ("card_declined", "generic_decline", "Your card was declined."),
    "insufficient": ("card_declined", "insufficient_funds", "Your card has insufficient funds."),
    "expired": ("expired_card", "expired_card", "Your card has expired."),
}
FINAL = frozenset({"succeeded", "canceled", "requires_payment_method"})


def optional_hook(module: str, name: str) -> Callable[[Ctx, Obj], object] | None:
    """``module.name`` if both exist; a module failing for another reason still raises."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        return None
    return getattr(mod, name, None)


def notify(ctx: Ctx, pi: Obj) -> None:
    """Tell the owner of `pi` (invoice, Checkout Session) that it reached a final outcome."""
    if pi.get("_invoice"):
        hook = optional_hook("sandbox.replica.resources.invoices", "payment_outcome")
        if hook is not None:
            hook(ctx, pi)
    if pi.get("_checkout_session"):
        from sandbox.replica.resources import checkout_sessions

        checkout_sessions.payment_outcome(ctx, pi)


def check_method(pi: Obj, pm: Obj) -> None:
    """Stripe's refusals of a PaymentMethod for an intent (raised before any write)."""
    kind = pm["type"]
    if kind not in (pi.get("payment_method_types") or []):
        raise ApiError(
            400, f"The PaymentMethod provided ({kind}) is not allowed for this PaymentIntent. "
            "Please attach a PaymentMethod of one of the following types: "
            + ", ".join(pi.get("payment_method_types") or []) + ".",
            code="payment_intent_invalid_parameter", param="payment_method")
    allowed = catalog.CURRENCIES.get(kind)
    if allowed is not None and pi["currency"] not in allowed:
        raise ApiError(
            400, f"The currency provided ({pi['currency']}) is invalid. Payments with {kind} "
            f"support the following currencies: {', '.join(sorted(allowed))}.",
            code="payment_intent_invalid_parameter", param="currency")
    owner = pm.get("customer")
    if owner and pi.get("customer") and owner != pi["customer"]:
        raise ApiError(400, "The provided PaymentMethod belongs to a different Customer than "
                       "the one on this PaymentIntent.", code="payment_intent_invalid_parameter",
                       param="payment_method")
    if kind == "customer_balance" and not pi.get("customer"):
        raise ApiError(400, "A customer is required to use the customer_balance payment method.",
                       code="payment_intent_invalid_parameter", param="customer")


def confirm(ctx: Ctx, pi: Obj, pm: Obj, *, off_session: bool = False) -> ApiError | None:
    """Confirm `pi` with `pm`; answer the 402 to raise when a card is declined, else None."""
    check_method(pi, pm)
    pi.update(payment_method=pm["id"], last_payment_error=None, next_action=None)
    pi["_off_session"] = off_session
    kind = pm["type"]
    if kind in catalog.DEBITS or kind in catalog.VOUCHERS:
        from sandbox.replica.resources import delayed_methods

        delayed_methods.start(ctx, pi, pm)
        return None
    if kind == "customer_balance":
        from sandbox.replica.resources import bank_transfers

        bank_transfers.start(ctx, pi, pm)
        return None
    outcome = pm.get("_outcome")
    if outcome in DECLINES:
        code, decline_code, message = DECLINES[outcome]
        return fail(ctx, pi, pm, code=code, decline_code=decline_code, message=message)
    if outcome == "authenticate" and not pi.get("_authenticated"):
        if off_session and not pi.get("_invoice"):
            return fail(ctx, pi, pm, code="authentication_required",
                        decline_code="authentication_required",
                        message="Your card was declined. This transaction requires "
                        "authentication.")
        source = "src_" + pi["id"].removeprefix("pi_")
        require_action(ctx, pi, {"type": "use_stripe_sdk", "use_stripe_sdk": {
            "type": "three_d_secure_redirect", "source": source,
            "stripe_js": f"https://hooks.stripe.com/redirect/authenticate/{source}"}})
        return None
    succeed(ctx, pi, pm)
    return None


def require_action(ctx: Ctx, pi: Obj, next_action: Obj) -> None:
    pi.update(status="requires_action", next_action=next_action)
    ctx.replace(pi)
    ctx.emit("payment_intent.requires_action", pi)


def succeed(ctx: Ctx, pi: Obj, pm: Obj, charge: Obj | None = None,
            *, voucher_number: str | None = None) -> Obj:
    """The payment went through: charge succeeded (captured unless manual), intent on."""
    manual = pi.get("capture_method") == "manual" and pm["type"] == "card"
    if charge is None:
        charge = charges.create(ctx, pi, pm, status="succeeded", captured=not manual,
                                voucher_number=voucher_number)
    else:
        charges.settle(ctx, charge)
    ctx.emit("charge.succeeded", charge)
    pi.update(latest_charge=charge["id"], next_action=None, last_payment_error=None,
              payment_method=pm["id"])
    if manual:
        pi.update(status="requires_capture", amount_capturable=pi["amount"])
        ctx.replace(pi)
        ctx.emit("payment_intent.amount_capturable_updated", pi)
    else:
        pi.update(status="succeeded", amount_received=pi["amount"], amount_capturable=0)
        ctx.replace(pi)
        ctx.emit("payment_intent.succeeded", pi)
    if pi.get("setup_future_usage") and pi.get("customer") and not pm.get("customer"):
        from sandbox.replica.resources import payment_methods

        payment_methods.attach(ctx, pm, pi["customer"])
    if charge.get("_outcome") == "dispute":
        from sandbox.replica.resources import disputes

        disputes.schedule(ctx, charge)
    if not manual:
        notify(ctx, pi)
    return charge


def fail(
    ctx: Ctx, pi: Obj, pm: Obj | None, *, code: str, message: str,
    decline_code: str | None = None, error_type: str = "card_error",
    charge: Obj | None = None, with_charge: bool = True,
) -> ApiError:
    """The attempt failed: failed charge (unless none was made), intent back to
    ``requires_payment_method`` with ``last_payment_error``; answers the error to raise."""
    if charge is None and with_charge and pm is not None:
        charge = charges.create(ctx, pi, pm, status="failed", captured=False,
                                failure=(code, message, decline_code))
    elif charge is not None:
        charges.fail(ctx, charge, code, message)
    if charge is not None:
        ctx.emit("charge.failed", charge)
    error: Obj = {"type": error_type, "code": code, "message": message,
                  "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"}
    if decline_code:
        error["decline_code"] = decline_code
    if charge is not None:
        error["charge"] = charge["id"]
        pi["latest_charge"] = charge["id"]
    if pm is not None:
        error["payment_method"] = public(pm)
    pi.update(status="requires_payment_method", last_payment_error=error, next_action=None,
              payment_method=None, amount_capturable=0)
    ctx.replace(pi)
    ctx.emit("payment_intent.payment_failed", pi)
    notify(ctx, pi)
    extra: Obj = {"payment_intent": public(pi)}
    for key in ("decline_code", "charge", "payment_method"):
        if key in error:
            extra[key] = error[key]
    return ApiError(402 if error_type == "card_error" else 400, message, type=error_type,
                    code=code, extra=extra, commit=True)


def cancel(ctx: Ctx, pi: Obj, reason: str | None) -> Obj:
    if pi["status"] == "requires_capture" and pi.get("latest_charge"):
        charge = charges.load(ctx, pi["latest_charge"])
        charge.update(refunded=True, amount_refunded=charge["amount"])
        ctx.replace(charge)
        ctx.emit("charge.refunded", charge)
    if pi.get("_amount_funded"):
        from sandbox.replica.resources import bank_transfers

        bank_transfers.release(ctx, pi)
    pi.update(status="canceled", canceled_at=ctx.now(), cancellation_reason=reason,
              next_action=None, amount_capturable=0)
    ctx.replace(pi)
    ctx.emit("payment_intent.canceled", pi)
    notify(ctx, pi)
    return pi


def capture(ctx: Ctx, pi: Obj, amount: int) -> Obj:
    charge = charges.capture(ctx, charges.load(ctx, pi["latest_charge"]), amount)
    ctx.emit("charge.captured", charge)
    pi.update(status="succeeded", amount_received=amount, amount_capturable=0)
    ctx.replace(pi)
    ctx.emit("payment_intent.succeeded", pi)
    notify(ctx, pi)
    return pi


def authenticate(ctx: Ctx, pi: Obj, *, success: bool) -> Obj:
    """The customer completed (or failed) 3-D Secure for a card intent in requires_action."""
    pm = ctx.get(pi["payment_method"], "payment_method")
    if success:
        pi["_authenticated"] = True
        succeed(ctx, pi, pm)
    else:
        fail(ctx, pi, pm, code="payment_intent_authentication_failure",
             message="The provided PaymentMethod has failed authentication. You can provide "
             "payment_method_data or a new PaymentMethod to attempt to fulfill this "
             "PaymentIntent again.", error_type="invalid_request_error", with_charge=False)
    return pi
