"""Checkout Sessions: create (mode payment or subscription), retrieve/list, line items,
expire, and a test helper that plays the customer completing the page.

    POST /v1/checkout/sessions                       line_items[price|price_data, quantity],
                                                     payment_method_types, success_url, …
    GET  /v1/checkout/sessions[/{id}], /{id}/line_items
    POST /v1/checkout/sessions/{id}/expire            open -> expired, checkout.session.expired
    POST /_replica/test_helpers/checkout/sessions/{id}/complete
                                                     payment_method (a test PM id, default
                                                     pm_card_visa), email

Completing a payment-mode session creates its PaymentIntent through
`payment_intents.collect_with` (`collect` plus the session's ``payment_method_options``)
and emits ``checkout.session.completed`` with ``payment_status``
``paid``, or ``unpaid`` for methods that settle later (bank debits, vouchers, bank
transfers); when that intent settles, ``checkout.session.async_payment_succeeded``
(``payment_status`` becomes ``paid``) or ``checkout.session.async_payment_failed``
follows. A declined card answers 402 and leaves the session open, as the hosted page
would. Sessions expire 24 h after creation (``expires_at``) through due work.
Subscription mode calls ``subscriptions.create_subscription(ctx, params)`` when the
billing modules provide it, else answers 400.
"""

from __future__ import annotations

from collections.abc import Callable

from sandbox.replica import crud
from sandbox.replica.context import Ctx, public
from sandbox.replica.crud import check_params
from sandbox.replica.errors import ApiError, invalid_param, missing_param
from sandbox.replica.forms import as_int, as_list
from sandbox.replica.registry import Obj, Params, Registry, ResourceSpec
from sandbox.replica.resources import payment_flows, payment_intents, payment_methods
from sandbox.replica.resources import payment_method_catalog as catalog
from sandbox.replica.templates import template

DAY = 86_400
_CREATE = frozenset({
    "mode", "line_items", "payment_method_types", "success_url", "cancel_url", "customer",
    "customer_email", "customer_creation", "client_reference_id", "metadata", "expires_at",
    "payment_method_options", "payment_intent_data", "subscription_data", "locale",
    "submit_type", "ui_mode", "return_url", "currency", "billing_address_collection",
    "allow_promotion_codes", "automatic_tax", "phone_number_collection",
})


def _subscription_hook() -> Callable[[Ctx, Params], Obj] | None:
    return payment_flows.optional_hook("sandbox.replica.resources.subscriptions",
                                       "create_subscription")


def _line_items(ctx: Ctx, raw: list) -> tuple[list[Obj], str]:
    from sandbox.replica.resources import prices

    items, currencies = [], set()
    for i, entry in enumerate(raw):
        entry = entry if isinstance(entry, dict) else {}
        if entry.get("price"):
            price = ctx.get(str(entry["price"]), "price", param=f"line_items[{i}][price]")
        elif isinstance(entry.get("price_data"), dict):
            data = dict(entry["price_data"])
            price = crud.create(ctx, prices.SPEC, data)
        else:
            raise missing_param(f"line_items[{i}][price]")
        quantity = as_int(entry, "quantity", default=1) or 1
        unit = price.get("unit_amount") or 0
        product = ctx.find(price.get("product") or "") or {}
        item = template("item")
        item.update(id=ctx.new_id("line_item", prefix="li_"), metadata=None, amount_discount=0,
                    amount_subtotal=unit * quantity, amount_tax=0,
                    amount_total=unit * quantity, currency=price["currency"],
                    description=product.get("name"), price=public(price), quantity=quantity)
        item["adjustable_quantity"] = None
        items.append(item)
        currencies.add(price["currency"])
    if not items:
        raise missing_param("line_items")
    if len(currencies) > 1:
        raise invalid_param("line_items", "All line items must use the same currency.")
    return items, currencies.pop()


def _create(ctx: Ctx, params: Params) -> Obj:
    check_params(params, _CREATE)
    mode = params.get("mode") or "payment"
    if mode not in ("payment", "subscription"):
        raise invalid_param("mode", f"The replica supports mode payment and subscription, not "
                            f"{mode}.")
    if mode == "subscription" and _subscription_hook() is None:
        raise ApiError(400, "Checkout Sessions in subscription mode need the replica's billing "
                       "modules (sandbox.replica.resources.subscriptions.create_subscription), "
                       "which are not installed yet.", param="mode")
    customer = params.get("customer") or None
    if customer:
        customer = ctx.get(str(customer), "customer", param="customer")["id"]
    items, currency = _line_items(ctx, as_list(params, "line_items"))
    types = [str(t) for t in as_list(params, "payment_method_types")] or ["card"]
    for kind in types:
        if kind not in catalog.TYPES:
            raise invalid_param("payment_method_types", f"Invalid payment_method_types[]: {kind}")
    total = sum(i["amount_total"] for i in items)
    session = ctx.new_object("checkout.session", defaults={})
    now = ctx.now()
    session.update(
        after_expiration=None, allow_promotion_codes=None, amount_subtotal=total,
        amount_total=total, automatic_tax={"enabled": False, "liability": None,
                                           "status": None, "provider": None},
        billing_address_collection=params.get("billing_address_collection") or None,
        cancel_url=params.get("cancel_url") or None,
        client_reference_id=params.get("client_reference_id") or None, client_secret=None,
        consent=None, consent_collection=None, currency=currency, currency_conversion=None,
        custom_fields=[], custom_text={"after_submit": None, "shipping_address": None,
                                       "submit": None, "terms_of_service_acceptance": None},
        customer=customer, customer_account=None,
        customer_creation=None if customer else (params.get("customer_creation")
                                                  or "if_required"),
        customer_details=None, customer_email=params.get("customer_email") or None,
        expires_at=as_int(params, "expires_at", default=now + DAY), invoice=None,
        invoice_creation={"enabled": False, "invoice_data": {k: None for k in template(
            "checkout.session")["invoice_creation"]["invoice_data"]}} if mode == "payment"
        else None,
        locale=params.get("locale") or None,
        metadata={str(k): str(v) for k, v in (params.get("metadata") or {}).items()},
        mode=mode, payment_intent=None, payment_link=None,
        payment_method_collection="if_required" if mode == "payment" else "always",
        payment_method_configuration_details=None,
        payment_method_options=params.get("payment_method_options") or {},
        payment_method_types=types, payment_status="unpaid",
        phone_number_collection={"enabled": False}, recovered_from=None,
        saved_payment_method_options=None, setup_intent=None,
        shipping_address_collection=None, shipping_cost=None, shipping_options=[],
        status="open", submit_type=params.get("submit_type") or None, subscription=None,
        success_url=params.get("success_url") or None,
        total_details={"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        ui_mode=params.get("ui_mode") or "hosted", adaptive_pricing={"enabled": False},
        discounts=[], collected_information=None, permissions=None, wallet_options=None,
        origin_context=None, integration_identifier=None, managed_payments=None,
    )
    session["url"] = f"https://checkout.stripe.com/c/pay/{session['id']}"
    session["_line_items"] = [public(i) for i in items]
    session["_payment_intent_data"] = params.get("payment_intent_data") or {}
    ctx.insert(session)
    ctx.schedule(session["expires_at"], "checkout.session.expires", {"id": session["id"]})
    return session


def _expire(ctx: Ctx, session: Obj) -> Obj:
    if session["status"] != "open":
        raise ApiError(400, f"Only Checkout Sessions with a status in [\"open\"] can be "
                       f"expired. This Checkout Session has a status of {session['status']}.",
                       code="checkout_session_unexpected_state")
    session["status"] = "expired"
    ctx.replace(session)
    ctx.emit("checkout.session.expired", session)
    return session


def _expire_route(ctx: Ctx, params: Params, id: str) -> Obj:
    check_params(params, frozenset())
    return _expire(ctx, crud.load(ctx, SPEC, id))


def _expires(ctx: Ctx, payload: Obj) -> None:
    session = ctx.find(payload["id"])
    if session is not None and session.get("status") == "open":
        _expire(ctx, session)


def _line_items_route(ctx: Ctx, params: Params, id: str) -> Obj:
    check_params(params, frozenset({"limit", "starting_after", "ending_before"}))
    items = crud.load(ctx, SPEC, id)["_line_items"]
    return {"object": "list", "data": items, "has_more": False,
            "url": f"/v1/checkout/sessions/{id}/line_items"}


def _customer_for(ctx: Ctx, session: Obj, email: str | None) -> str | None:
    if session.get("customer"):
        return session["customer"]
    if session["mode"] == "payment" and session.get("customer_creation") != "always":
        return None
    from sandbox.replica.resources import customers

    return crud.create(ctx, customers.SPEC, {"email": email} if email else {})["id"]


def _complete(ctx: Ctx, params: Params, id: str) -> Obj:
    check_params(params, frozenset({"payment_method", "email", "name"}))
    session = crud.load(ctx, SPEC, id)
    if session["status"] != "open":
        raise ApiError(400, f"Checkout Session {id} is {session['status']}, not open.",
                       code="checkout_session_unexpected_state")
    pm = payment_methods.resolve(ctx, str(params.get("payment_method") or "pm_card_visa"))
    if pm["type"] not in session["payment_method_types"]:
        raise invalid_param("payment_method", f"This session does not accept {pm['type']}; it "
                            "accepts " + ", ".join(session["payment_method_types"]) + ".")
    email = params.get("email") or session.get("customer_email") or (
        pm.get("billing_details") or {}).get("email")
    customer = _customer_for(ctx, session, email)
    details = {k: None for k in template("checkout.session")["customer_details"]}
    details.update(email=email, name=params.get("name") or pm["billing_details"].get("name"),
                   tax_exempt="none", tax_ids=[])
    session.update(customer=customer, customer_details=details)
    if session["mode"] == "subscription":
        return _complete_subscription(ctx, session, pm)
    data = session["_payment_intent_data"]
    pi = payment_intents.collect_with(
        ctx, amount=session["amount_total"], currency=session["currency"], customer=customer,
        payment_method=pm["id"], description=data.get("description"),
        metadata=data.get("metadata") or None, off_session=False,
        payment_method_options=session["payment_method_options"])
    if pi["status"] == "requires_action" and (pi.get("next_action") or {}).get(
            "type") == "use_stripe_sdk":
        payment_flows.authenticate(ctx, pi, success=True)  # done on the hosted page
    if pi["status"] == "requires_payment_method":
        error = pi["last_payment_error"] or {}
        raise ApiError(402, error.get("message") or "Your card was declined.", type="card_error",
                       code=error.get("code"), extra={"payment_intent": public(pi)}, commit=True)
    pi["_checkout_session"] = session["id"]
    ctx.replace(pi)
    session.update(status="complete", payment_intent=pi["id"],
                   payment_status="paid" if pi["status"] == "succeeded" else "unpaid")
    ctx.replace(session)
    ctx.emit("checkout.session.completed", session)
    return session


def _complete_subscription(ctx: Ctx, session: Obj, pm: Obj) -> Obj:
    hook = _subscription_hook()
    if hook is None:
        raise ApiError(400, "Subscription mode needs sandbox.replica.resources.subscriptions.")
    payment_methods.attach(ctx, pm, session["customer"])
    items = [{"price": i["price"]["id"], "quantity": i["quantity"]}
             for i in session["_line_items"]]
    sub = hook(ctx, {"customer": session["customer"], "items": items,
                     "default_payment_method": pm["id"], "metadata": session["metadata"]})
    invoice = sub.get("latest_invoice")
    session.update(status="complete", subscription=sub["id"],
                   invoice=invoice["id"] if isinstance(invoice, dict) else invoice,
                   payment_status="paid" if sub.get("status") in ("active", "trialing")
                   else "unpaid")
    ctx.replace(session)
    ctx.emit("checkout.session.completed", session)
    return session


def payment_outcome(ctx: Ctx, pi: Obj) -> None:
    """The session's intent settled after completion (async payment methods)."""
    session = ctx.find(pi["_checkout_session"])
    if session is None or session["status"] != "complete" or session["payment_status"] == "paid":
        return
    if pi["status"] == "succeeded":
        session["payment_status"] = "paid"
        ctx.replace(session)
        ctx.emit("checkout.session.async_payment_succeeded", session)
    else:
        ctx.emit("checkout.session.async_payment_failed", session)


SPEC = ResourceSpec(
    object="checkout.session",
    path="/v1/checkout/sessions",
    fields=frozenset({"metadata"}),
    update_params=frozenset({"metadata", "collected_information", "shipping_options"}),
    filters={"customer": "customer", "payment_intent": "payment_intent",
             "subscription": "subscription", "status": "status",
             "payment_link": "payment_link", "customer_details.email": "customer_details.email"},
    operations=frozenset({"list", "retrieve", "update"}),
    events=frozenset(),
)


def register(reg: Registry) -> None:
    reg.resource(SPEC)
    reg.route("POST", SPEC.path, _create)
    reg.route("POST", SPEC.path + "/{id}/expire", _expire_route)
    reg.route("GET", SPEC.path + "/{id}/line_items", _line_items_route)
    reg.route("POST", "/_replica/test_helpers/checkout/sessions/{id}/complete", _complete)
    reg.on_due("checkout.session.expires", _expires)
