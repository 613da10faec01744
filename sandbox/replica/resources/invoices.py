"""Invoices: the collection (``/v1/invoices``), drafts, and how new ones are made.

Create a draft (``customer``, ``collection_method``, ``days_until_due``/``due_date``,
``auto_advance``; ``pending_invoice_items_behavior=include`` pulls in the customer's pending
invoice items — Stripe's default since 2022-08-01 is ``exclude``), update it, delete it.
Subscription invoices carry ``parent.subscription_details.subscription`` (there is no
top-level ``subscription``). The state machine (finalize, pay, void, …) is
`invoice_actions`; collection is `invoice_collection`; `payment_outcome` is the payments
module's callback when a payment intent made for an invoice reaches its outcome.
"""

from __future__ import annotations

import copy

from sandbox.replica import crud
from sandbox.replica.context import Ctx, public
from sandbox.replica.errors import ApiError, invalid_param, missing_param
from sandbox.replica.forms import as_bool, as_int
from sandbox.replica.registry import CRUD, Obj, Params, Registry, ResourceSpec
from sandbox.replica.resources import invoice_collection, invoice_lines, invoiceitems
from sandbox.replica.resources.billing_periods import DAY

AUTO_FINALIZE_DELAY = 3600  # Stripe leaves automatic drafts editable for about an hour
FAILED_CREATED_DELAY = 72 * 3600  # ... or 72 h while invoice.created deliveries fail
_DRAFT_FIELDS = frozenset({
    "auto_advance", "collection_method", "days_until_due", "default_payment_method",
    "description", "due_date", "footer", "metadata", "statement_descriptor", "custom_fields",
})
_OPEN_FIELDS = frozenset({"auto_advance", "description", "footer", "metadata",
                          "custom_fields", "default_payment_method"})
_ACCEPTED = frozenset({"account_tax_ids", "automatic_tax", "default_source", "default_tax_rates",
                       "discounts", "effective_at", "issuer", "on_behalf_of", "payment_settings",
                       "rendering", "shipping_cost", "shipping_details", "transfer_data",
                       "customer_account", "number"})

SPEC = ResourceSpec(
    object="invoice",
    path="/v1/invoices",
    defaults={
        "account_name": None, "account_tax_ids": None, "amount_overpaid": 0, "amount_paid": 0,
        "amount_shipping": 0, "attempt_count": 0, "attempted": False, "auto_advance": False,
        "automatic_tax": {"enabled": False, "liability": None, "status": None,
                          "disabled_reason": None, "provider": None},
        "custom_fields": None, "customer_address": None, "customer_email": None,
        "customer_name": None, "customer_phone": None, "customer_shipping": None,
        "customer_tax_ids": [], "default_payment_method": None, "description": None,
        "due_date": None, "effective_at": None, "ending_balance": None, "footer": None,
        "from_invoice": None, "last_finalization_error": None, "metadata": {},
        "next_payment_attempt": None, "parent": None, "period_end": None, "period_start": None,
        "payment_settings": {"default_mandate": None, "payment_method_options": None,
                             "payment_method_types": None},
        "rendering": None, "shipping_cost": None, "shipping_details": None,
        "starting_balance": 0, "status": "draft", "total_pretax_credit_amounts": [],
        "total_taxes": [], "webhooks_delivered_at": None, "customer_account": None,
        "status_transitions": {"finalized_at": None, "marked_uncollectible_at": None,
                               "paid_at": None, "voided_at": None},
        "subscription": None, "test_clock": None,
    },
    fields=frozenset(),
    filters={"customer": "customer", "status": "status", "collection_method":
             "collection_method", "subscription": "parent.subscription_details.subscription"},
    operations=CRUD - {"create", "update", "delete"},
)


def new_invoice(
    ctx: Ctx, customer: Obj, *, billing_reason: str, collection_method: str, currency: str,
    days_until_due: int | None = None, auto_advance: bool = False,
    subscription: Obj | None = None, period: tuple[int, int] | None = None,
    description: str | None = None, metadata: dict | None = None,
    default_payment_method: str | None = None,
) -> Obj:
    """A draft invoice object (id assigned, no lines yet, not stored)."""
    invoice = ctx.new_object(SPEC.object)
    now = ctx.now()
    account = ctx.find(ctx.account) or {}
    invoice.update(
        account_country=account.get("country") or "US",
        account_name=(account.get("business_profile") or {}).get("name"),
        billing_reason=billing_reason, collection_method=collection_method,
        currency=currency.lower(), customer=customer["id"], auto_advance=auto_advance,
        description=description, metadata=metadata or {},
        default_payment_method=default_payment_method,
        period_start=period[0] if period else now, period_end=period[1] if period else now,
        due_date=now + days_until_due * DAY if collection_method == "send_invoice"
        and days_until_due is not None else None,
    )
    invoice["_days_until_due"] = days_until_due
    snapshot_customer(invoice, customer)
    if subscription is not None:
        invoice["parent"] = {"type": "subscription_details", "quote_details": None,
                             "subscription_details": {"metadata": dict(subscription["metadata"]),
                                                      "subscription": subscription["id"]}}
    invoice_lines.set_lines(invoice, [])
    return invoice


def snapshot_customer(invoice: Obj, customer: Obj) -> None:
    invoice.update(customer_address=customer.get("address"), customer_email=customer.get("email"),
                   customer_name=customer.get("name"), customer_phone=customer.get("phone"),
                   customer_shipping=customer.get("shipping") or None,
                   customer_tax_exempt=customer.get("tax_exempt") or "none")


def store_new(ctx: Ctx, invoice: Obj) -> Obj:
    """Save a new draft and announce it; auto-advancing drafts finalise an hour later."""
    if invoice["auto_advance"] and invoice["billing_reason"] != "subscription_create":
        delay = (FAILED_CREATED_DELAY if ctx.engine.config.invoice_created_failing
                 else AUTO_FINALIZE_DELAY)
        invoice["automatically_finalizes_at"] = ctx.now() + delay
        ctx.schedule(invoice["automatically_finalizes_at"], "invoice.auto_finalize",
                     {"id": invoice["id"]})
    ctx.insert(invoice)
    ctx.emit("invoice.created", invoice)
    return invoice


def subscription_of(invoice: Obj) -> str | None:
    return ((invoice.get("parent") or {}).get("subscription_details") or {}).get("subscription")


def load(ctx: Ctx, id: str) -> Obj:
    return crud.load(ctx, SPEC, id)


# -- API: create / update / delete -----------------------------------------------------------
def _apply(invoice: Obj, params: Params) -> None:
    if "auto_advance" in params:
        invoice["auto_advance"] = bool(as_bool(params, "auto_advance"))
    if params.get("collection_method"):
        if params["collection_method"] not in ("charge_automatically", "send_invoice"):
            raise invalid_param("collection_method", "Invalid collection_method")
        invoice["collection_method"] = params["collection_method"]
    for name in ("description", "footer", "statement_descriptor", "default_payment_method"):
        if name in params:
            invoice[name] = params[name] or None
    if "custom_fields" in params:
        invoice["custom_fields"] = params["custom_fields"] or None
    if "metadata" in params:
        from sandbox.replica.templates import apply_metadata

        invoice["metadata"] = apply_metadata(invoice.get("metadata"), params["metadata"])
    if "days_until_due" in params:
        invoice["_days_until_due"] = as_int(params, "days_until_due")
    if "due_date" in params:
        invoice["due_date"] = as_int(params, "due_date")
    elif invoice.get("_days_until_due") is not None and invoice["collection_method"] == \
            "send_invoice":
        invoice["due_date"] = invoice["created"] + invoice["_days_until_due"] * DAY
    if invoice["collection_method"] == "send_invoice" and invoice.get("due_date") is None:
        raise missing_param("days_until_due")
    if invoice["collection_method"] == "charge_automatically":
        invoice["due_date"] = None


def create(ctx: Ctx, params: Params) -> Obj:
    crud.check_params(params, _DRAFT_FIELDS | _ACCEPTED | {
        "customer", "currency", "pending_invoice_items_behavior", "subscription"},
        ("customer",))
    customer = ctx.get(params["customer"], "customer", param="customer")
    currency = str(params.get("currency") or customer.get("currency") or "usd").lower()
    invoice = new_invoice(ctx, customer, billing_reason="manual", currency=currency,
                          collection_method=params.get("collection_method")
                          or "charge_automatically")
    _apply(invoice, params)
    behavior = params.get("pending_invoice_items_behavior") or "exclude"
    if behavior not in ("include", "exclude"):
        raise invalid_param("pending_invoice_items_behavior", "Invalid value: must be one of "
                            "include or exclude")
    if behavior == "include":
        items = [i for i in invoiceitems.pending(ctx, customer["id"])
                 if i["currency"] == currency]
        invoiceitems.attach(ctx, invoice, items)
    return store_new(ctx, invoice)


def update(ctx: Ctx, params: Params, id: str) -> Obj:
    invoice = load(ctx, id)
    allowed = _DRAFT_FIELDS | _ACCEPTED if invoice["status"] == "draft" else _OPEN_FIELDS
    crud.check_params(params, allowed)
    if invoice["status"] in ("paid", "void") and set(params) - {"metadata", "expand"}:
        raise ApiError(400, f"You can only update metadata on a {invoice['status']} invoice.",
                       code="invoice_not_editable")
    before = copy.deepcopy(invoice)
    _apply(invoice, params)
    changed = crud.diff(public(before), public(invoice))
    ctx.replace(invoice)
    if changed:
        ctx.emit("invoice.updated", invoice, previous=changed)
    return invoice


def delete(ctx: Ctx, params: Params, id: str) -> Obj:
    invoice = load(ctx, id)
    if invoice["status"] != "draft":
        raise ApiError(400, "You can only delete draft invoices.", code="invoice_not_editable")
    for line in invoice["lines"]["data"]:
        item = ctx.find(invoice_lines.item_of(line) or "")
        if item and not item.get("deleted"):
            item.update(invoice=None, _pending=True)
            ctx.replace(item)
    return crud.delete(ctx, SPEC, invoice)


def payment_outcome(ctx: Ctx, pi: Obj) -> None:
    """The payments module's callback: `pi` (created with ``invoice=``) reached an outcome."""
    invoice_collection.payment_outcome(ctx, pi)


def register(reg: Registry) -> None:
    reg.resource(SPEC)
    reg.route("POST", SPEC.path, create)
    reg.route("POST", SPEC.path + "/{id}", update)
    reg.route("DELETE", SPEC.path + "/{id}", delete)
    reg.route("GET", SPEC.path + "/{id}/lines", invoice_lines.list_lines)
