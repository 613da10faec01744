"""Customers: CRUD; a deleted customer still answers ``{"deleted": true}`` on GET.

``payment_method`` on create attaches that payment method (a test id such as
``pm_card_visa`` becomes a fresh ``pm_…``), and an ``invoice_settings.default_payment_method``
naming the same id points at the attached one, as Stripe does.
"""

from __future__ import annotations

from sandbox.replica import crud
from sandbox.replica.context import Ctx
from sandbox.replica.errors import invalid_param
from sandbox.replica.registry import CRUD, Obj, Params, Registry, ResourceSpec

_WRITABLE = frozenset({
    "address", "balance", "description", "email", "invoice_prefix", "invoice_settings",
    "metadata", "name", "next_invoice_sequence", "phone", "preferred_locales", "shipping",
    "tax_exempt", "test_clock",
})
# Accepted and stored nowhere (tax, sources, discounts are outside the replica's scope).
_LATER = frozenset({
    "payment_method", "source", "cash_balance", "tax", "tax_id_data", "validate",
    "default_source", "coupon", "promotion_code", "discounts", "individual_name",
    "business_name",
})


def _prepare(ctx: Ctx, obj: Obj, params: Params, creating: bool) -> None:
    if creating and not params.get("invoice_prefix"):
        obj["invoice_prefix"] = ctx.engine.ids.token(8)
    if obj.get("tax_exempt") not in ("none", "exempt", "reverse"):
        raise invalid_param("tax_exempt", "Invalid tax_exempt: must be none, exempt or reverse")
    if isinstance(params.get("email"), str) and params["email"] and "@" not in params["email"]:
        raise invalid_param("email", f"Invalid email address: {params['email']}")


SPEC = ResourceSpec(
    object="customer",
    path="/v1/customers",
    defaults={
        "address": None, "currency": None, "default_source": None, "discount": None,
        "shipping": None, "invoice_settings": {
            "custom_fields": None, "default_payment_method": None, "footer": None,
            "rendering_options": None,
        },
    },
    fields=_WRITABLE,
    create_params=_WRITABLE | _LATER,
    update_params=_WRITABLE | _LATER,
    filters={"email": "email", "test_clock": "test_clock"},
    prepare=_prepare,
    operations=CRUD - {"create"},
    retrieve_deleted=True,
)


def _create(ctx: Ctx, params: Params) -> Obj:
    from sandbox.replica.resources import payment_methods

    pm_param = params.get("payment_method")
    customer = crud.create(ctx, SPEC, {k: v for k, v in params.items() if k != "payment_method"})
    if not pm_param:
        return customer
    pm = payment_methods.attach(ctx, payment_methods.resolve(ctx, str(pm_param)), customer["id"])
    settings = customer.get("invoice_settings") or {}
    if settings.get("default_payment_method") == pm_param:
        customer["invoice_settings"] = {**settings, "default_payment_method": pm["id"]}
        ctx.replace(customer)
    return customer


def register(reg: Registry) -> None:
    reg.resource(SPEC)
    reg.route("POST", SPEC.path, _create)
