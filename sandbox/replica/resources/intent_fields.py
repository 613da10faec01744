"""A new PaymentIntent object: amount, currency, customer, payment method types and
options as Stripe fills them (`new_intent`), shared by the API and `collect`.

Without ``payment_method_types`` the intent uses dynamic payment methods
(``automatic_payment_methods.enabled``): card plus every replica method whose currency
matches (``customer_balance`` only with a customer), as Stripe offers them.
"""

from __future__ import annotations

import string

from core.money import Money, UnknownCurrency
from sandbox.replica.context import Ctx
from sandbox.replica.errors import invalid_param
from sandbox.replica.forms import as_bool, as_list
from sandbox.replica.registry import Obj, Params
from sandbox.replica.resources import payment_method_catalog as catalog


def currency_param(value: object) -> str:
    currency = str(value or "").lower()
    try:
        Money(amount=0, currency=currency)
    except (UnknownCurrency, ValueError):
        raise invalid_param("currency", f"Invalid currency: {currency}.") from None
    return currency


def method_types(
    params: Params, currency: str, customer: str | None
) -> tuple[list[str], Obj | None]:
    explicit = [str(t) for t in as_list(params, "payment_method_types")]
    for kind in explicit:
        if kind not in catalog.TYPES:
            raise invalid_param("payment_method_types", f"Invalid payment_method_types[]: "
                                f"{kind} is not supported by the replica.")
    if explicit:
        return explicit, None
    auto = params.get("automatic_payment_methods") or {}
    if as_bool(auto, "enabled", default=True) is False:
        return ["card"], None
    types = ["card"] + [t for t, curs in sorted(catalog.CURRENCIES.items())
                        if currency in curs and (t != "customer_balance" or customer)]
    return types, {"allow_redirects": auto.get("allow_redirects") or "always", "enabled": True}


def method_options(current: Obj | None, given: object, types: list[str]) -> Obj:
    out = dict(current or {})
    if "card" in types and "card" not in out:
        out["card"] = {"installments": None, "mandate_options": None, "network": None,
                       "request_three_d_secure": "automatic"}
    if isinstance(given, dict):
        for kind, value in given.items():
            out[kind] = (out.get(kind) or {}) | (value if isinstance(value, dict) else {})
    return out


def new_intent(ctx: Ctx, *, amount: int, currency: str, params: Params) -> Obj:
    """A PaymentIntent (not stored) in ``requires_payment_method``."""
    customer = params.get("customer") or None
    if customer:
        customer = ctx.get(str(customer), "customer", param="customer")["id"]
    types, automatic = method_types(params, currency, customer)
    pi = ctx.new_object("payment_intent")
    pi.update(
        amount=amount, amount_capturable=0, amount_details={"tip": {}}, amount_received=0,
        application=None, application_fee_amount=None, automatic_payment_methods=automatic,
        canceled_at=None, cancellation_reason=None,
        capture_method=params.get("capture_method") or "automatic_async",
        confirmation_method=params.get("confirmation_method") or "automatic",
        currency=currency, customer=customer, customer_account=None,
        description=params.get("description") or None, excluded_payment_method_types=None,
        last_payment_error=None, latest_charge=None, managed_payments=None,
        metadata={str(k): str(v) for k, v in (params.get("metadata") or {}).items()},
        next_action=None, on_behalf_of=None, payment_method=None,
        payment_method_configuration_details=None,
        payment_method_options=method_options(None, params.get("payment_method_options"), types),
        payment_method_types=types, processing=None,
        receipt_email=params.get("receipt_email") or None, review=None,
        setup_future_usage=params.get("setup_future_usage") or None,
        shipping=params.get("shipping") or None, source=None,
        statement_descriptor=params.get("statement_descriptor") or None,
        statement_descriptor_suffix=params.get("statement_descriptor_suffix") or None,
        status="requires_payment_method", transfer_data=None,
        transfer_group=params.get("transfer_group") or None,
    )
    # From the engine's id source, so a world built with an id seed is reproducible.
    pi["client_secret"] = f"{pi['id']}_secret_{ctx.engine.ids.token(24, string.ascii_letters)}"
    return pi
