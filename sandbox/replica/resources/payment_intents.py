"""PaymentIntents: create (optionally ``confirm=true``), update, confirm, capture, cancel;
and `collect`, the one call the billing modules use to take a payment.

Statuses: requires_payment_method → requires_confirmation → (confirm) → succeeded |
requires_capture (``capture_method=manual``) | processing (bank debits, settled days later)
| requires_action (3-D Secure, vouchers, bank transfers) | back to requires_payment_method
with ``last_payment_error``; canceled. How each payment method plays out is in
`payment_flows`, `delayed_methods` and `bank_transfers`. A declined card answers 402
``card_error`` (the failed charge and intent stay, as Stripe). Events: payment_intent.
created/processing/succeeded/payment_failed/canceled/requires_action/
amount_capturable_updated/partially_funded (Stripe has no ``payment_intent.updated``).

Test helper: ``POST /_replica/test_helpers/payment_intents/{id}/authenticate``
(``outcome=succeed|fail``) completes a 3-D Secure challenge.
"""

from __future__ import annotations

from core.money import Money
from sandbox.replica import crud
from sandbox.replica.context import Ctx
from sandbox.replica.crud import check_params
from sandbox.replica.errors import ApiError, invalid_param
from sandbox.replica.forms import as_bool, as_int
from sandbox.replica.registry import Obj, Params, Registry, ResourceSpec
from sandbox.replica.resources import fees, intent_fields, payment_flows, payment_methods

_ANYTIME = frozenset({"description", "metadata", "receipt_email", "shipping",
                      "statement_descriptor", "statement_descriptor_suffix", "transfer_group"})
_BEFORE_PAYMENT = frozenset({"amount", "currency", "customer", "payment_method",
                             "payment_method_types", "payment_method_options",
                             "payment_method_data", "setup_future_usage", "capture_method",
                             "application_fee_amount", "excluded_payment_method_types"})
_CONFIRM = frozenset({"payment_method", "payment_method_data", "payment_method_options",
                      "payment_method_types", "off_session", "return_url", "mandate",
                      "mandate_data", "receipt_email", "setup_future_usage", "shipping",
                      "capture_method", "error_on_requires_action", "use_stripe_sdk",
                      "radar_options", "confirmation_token", "client_secret"})
_CREATE = _ANYTIME | _BEFORE_PAYMENT | _CONFIRM | {
    "confirm", "automatic_payment_methods", "confirmation_method", "on_behalf_of",
    "transfer_data", "payment_method_configuration", "application_fee_amount"}
_OPEN = ("requires_payment_method", "requires_confirmation", "requires_action")
_CANCELABLE = ("requires_payment_method", "requires_capture", "requires_confirmation",
               "requires_action")
_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")


def _pick_method(ctx: Ctx, pi: Obj, params: Params) -> Obj | None:
    data = params.get("payment_method_data")
    if isinstance(data, dict) and data:
        return payment_methods.create_from(ctx, data, prefix="payment_method_data")
    if params.get("payment_method"):
        return payment_methods.resolve(ctx, str(params["payment_method"]))
    if pi.get("payment_method"):
        return ctx.get(pi["payment_method"], "payment_method")
    return None


def _confirm(ctx: Ctx, pi: Obj, params: Params) -> None:
    pm = _pick_method(ctx, pi, params)
    if pm is None:
        raise ApiError(400, "You cannot confirm this PaymentIntent because it's missing a "
                       "payment method. Update it with a payment method and confirm it again.",
                       code="payment_intent_unexpected_state")
    pi["payment_method_options"] = intent_fields.method_options(pi["payment_method_options"],
                                            params.get("payment_method_options"),
                                            pi["payment_method_types"])
    for name in ("receipt_email", "setup_future_usage", "capture_method", "shipping"):
        if params.get(name):
            pi[name] = params[name]
    off_session = params.get("off_session") not in (None, "", "false", False)
    error = payment_flows.confirm(ctx, pi, pm, off_session=off_session)
    if error is not None:
        raise error


def _create(ctx: Ctx, params: Params) -> Obj:
    check_params(params, _CREATE, ("amount", "currency"))
    amount = as_int(params, "amount")
    currency = intent_fields.currency_param(params["currency"])
    minimum = Money(amount=max(fees.major_hundredths(50, currency), 1), currency=currency)
    if amount is None or amount < minimum.amount:
        raise ApiError(400, f"Amount must be at least {minimum}", code="amount_too_small",
                       param="amount")
    pi = intent_fields.new_intent(ctx, amount=amount, currency=currency, params=params)
    if params.get("payment_method") or params.get("payment_method_data"):
        pm = _pick_method(ctx, pi, params)
        if pm is not None:
            pi.update(payment_method=pm["id"], status="requires_confirmation")
            params = {k: v for k, v in params.items() if k != "payment_method_data"}
            params["payment_method"] = pm["id"]
    ctx.insert(pi)
    ctx.emit("payment_intent.created", pi)
    if as_bool(params, "confirm", default=False):
        _confirm(ctx, pi, params)
    return pi


def _load(ctx: Ctx, id: str) -> Obj:
    return crud.load(ctx, SPEC, id)


def _unexpected(pi: Obj, verb: str, allowed: tuple[str, ...]) -> ApiError:
    done = {"cancel": "canceled", "capture": "captured"}.get(verb, verb + "ed")
    return ApiError(
        400, f"You cannot {verb} this PaymentIntent because it has a status of {pi['status']}. "
        f"Only a PaymentIntent with one of the following statuses may be {done}: "
        + ", ".join(allowed) + ".", code="payment_intent_unexpected_state")


def _update(ctx: Ctx, params: Params, id: str) -> Obj:
    check_params(params, _ANYTIME | _BEFORE_PAYMENT)
    pi = _load(ctx, id)
    if any(k in params for k in _BEFORE_PAYMENT) and pi["status"] not in _OPEN:
        raise _unexpected(pi, "update", _OPEN)
    for name in _ANYTIME - {"metadata"}:
        if name in params:
            pi[name] = params[name] or None
    if "metadata" in params:
        from sandbox.replica.templates import apply_metadata

        pi["metadata"] = apply_metadata(pi.get("metadata"), params["metadata"])
    if "amount" in params:
        pi["amount"] = as_int(params, "amount")
    if "currency" in params:
        pi["currency"] = intent_fields.currency_param(params["currency"])
    if "customer" in params:
        pi["customer"] = ctx.get(str(params["customer"]), "customer",
                                 param="customer")["id"] if params["customer"] else None
    for name in ("setup_future_usage", "capture_method"):
        if name in params:
            pi[name] = params[name] or None
    if "payment_method_types" in params:
        pi["payment_method_types"], pi["automatic_payment_methods"] = \
            intent_fields.method_types(params, pi["currency"], pi.get("customer"))
    pi["payment_method_options"] = intent_fields.method_options(pi["payment_method_options"],
                                            params.get("payment_method_options"),
                                            pi["payment_method_types"])
    pm = _pick_method(ctx, pi, params) if ("payment_method" in params
                                           or "payment_method_data" in params) else None
    if pm is not None:
        pi.update(payment_method=pm["id"], status="requires_confirmation", next_action=None)
    ctx.replace(pi)
    return pi


def _confirm_route(ctx: Ctx, params: Params, id: str) -> Obj:
    check_params(params, _CONFIRM)
    pi = _load(ctx, id)
    if pi["status"] not in _OPEN:
        raise _unexpected(pi, "confirm", _OPEN)
    _confirm(ctx, pi, params)
    return pi


def _cancel(ctx: Ctx, params: Params, id: str) -> Obj:
    check_params(params, frozenset({"cancellation_reason"}))
    pi = _load(ctx, id)
    if pi["status"] not in _CANCELABLE:
        raise _unexpected(pi, "cancel", _CANCELABLE)
    reason = params.get("cancellation_reason") or None
    if reason is not None and reason not in _REASONS:
        raise invalid_param("cancellation_reason", "Invalid cancellation_reason: must be one "
                            "of " + ", ".join(_REASONS))
    return payment_flows.cancel(ctx, pi, reason)


def _capture(ctx: Ctx, params: Params, id: str) -> Obj:
    check_params(params, frozenset({"amount_to_capture", "metadata", "final_capture",
                                    "statement_descriptor", "statement_descriptor_suffix",
                                    "application_fee_amount"}))
    pi = _load(ctx, id)
    if pi["status"] != "requires_capture":
        raise _unexpected(pi, "capture", ("requires_capture",))
    amount = as_int(params, "amount_to_capture", default=pi["amount_capturable"]) or 0
    if not 0 < amount <= pi["amount_capturable"]:
        raise ApiError(400, f"The amount to capture ({amount}) must be positive and no more "
                       f"than the amount capturable ({pi['amount_capturable']}).",
                       code="amount_too_large", param="amount_to_capture")
    return payment_flows.capture(ctx, pi, amount)


def _authenticate(ctx: Ctx, params: Params, id: str) -> Obj:
    check_params(params, frozenset({"outcome"}))
    pi = _load(ctx, id)
    action = (pi.get("next_action") or {}).get("type")
    if pi["status"] != "requires_action" or action != "use_stripe_sdk":
        raise ApiError(400, f"PaymentIntent {id} is not waiting for 3-D Secure authentication.",
                       code="payment_intent_unexpected_state")
    outcome = params.get("outcome") or "succeed"
    if outcome not in ("succeed", "fail"):
        raise invalid_param("outcome", "outcome must be succeed or fail")
    return payment_flows.authenticate(ctx, pi, success=outcome == "succeed")


def _default_method(ctx: Ctx, customer: str | None) -> str | None:
    found = ctx.find(customer) if customer else None
    return ((found or {}).get("invoice_settings") or {}).get("default_payment_method")


def collect(
    ctx: Ctx, *, amount: int, currency: str, customer: str | None, payment_method: str | None,
    description: str | None = None, metadata: dict | None = None, off_session: bool = True,
    invoice: str | None = None,
) -> dict:
    """Create and confirm a PaymentIntent; answer it as it stands after confirmation.

    Status: succeeded | processing (bank debit, settles later) | requires_action (3-D
    Secure, voucher, bank transfer awaiting funds) | requires_payment_method with
    ``last_payment_error`` (declined, or no payment method: then the customer's
    ``invoice_settings.default_payment_method`` is tried first). Never raises for a
    payment failure. With `invoice`, the id is kept in ``_invoice`` and
    ``invoices.payment_outcome(ctx, pi)`` is called on every final outcome (now or later).
    """
    return collect_with(ctx, amount=amount, currency=currency, customer=customer,
                        payment_method=payment_method, description=description,
                        metadata=metadata, off_session=off_session, invoice=invoice)


def collect_with(
    ctx: Ctx, *, amount: int, currency: str, customer: str | None, payment_method: str | None,
    description: str | None = None, metadata: dict | None = None, off_session: bool = True,
    invoice: str | None = None, payment_method_options: dict | None = None,
) -> dict:
    """`collect` plus ``payment_method_options`` (voucher expiry, bank transfer type…)."""
    currency = currency.lower()
    pm_id = payment_method or _default_method(ctx, customer)
    params: Params = {"customer": customer, "description": description,
                      "metadata": metadata or {},
                      "payment_method_options": payment_method_options or {}}
    pi = intent_fields.new_intent(ctx, amount=amount, currency=currency, params=params)
    if invoice:
        pi["_invoice"] = invoice
    pm = payment_methods.resolve(ctx, pm_id) if pm_id else None
    if pm is not None:
        if pm["type"] not in pi["payment_method_types"]:
            pi["payment_method_types"].append(pm["type"])
        pi.update(payment_method=pm["id"], status="requires_confirmation")
    ctx.insert(pi)
    ctx.emit("payment_intent.created", pi)
    if pm is None:
        payment_flows.fail(ctx, pi, None, code="payment_method_missing", with_charge=False,
                           message="No payment method was given and the customer has no "
                           "default payment method.", error_type="invalid_request_error")
        return pi
    try:
        payment_flows.confirm(ctx, pi, pm, off_session=off_session)
    except ApiError as exc:  # refused before any write (currency, customer mismatch …)
        payment_flows.fail(ctx, pi, pm, code=exc.code or "payment_intent_invalid_parameter",
                           message=exc.message, error_type="invalid_request_error",
                           with_charge=False)
    return pi


SPEC = ResourceSpec(
    object="payment_intent",
    path="/v1/payment_intents",
    filters={"customer": "customer"},
    operations=frozenset({"list", "retrieve"}),
    events=frozenset(),
)


def register(reg: Registry) -> None:
    reg.resource(SPEC)
    reg.route("POST", SPEC.path, _create)
    reg.route("POST", SPEC.path + "/{id}", _update)
    reg.route("POST", SPEC.path + "/{id}/confirm", _confirm_route)
    reg.route("POST", SPEC.path + "/{id}/cancel", _cancel)
    reg.route("POST", SPEC.path + "/{id}/capture", _capture)
    reg.route("POST", "/_replica/test_helpers/payment_intents/{id}/authenticate",
              _authenticate)
