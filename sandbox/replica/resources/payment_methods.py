"""PaymentMethods: create (card, sepa_debit, us_bank_account, oxxo, boleto, konbini,
customer_balance), Stripe's test ids used directly, attach/detach, lists.

A test id such as ``pm_card_visa`` is never stored under that id: like Stripe, each use
makes a fresh ``pm_…`` with the test card's details (`resolve`). What a PM does when it is
charged (decline, fail days later, dispute…) is its private ``_outcome``, chosen from the
test data it was made from — see `payment_method_catalog`. Stripe sends no
``payment_method.created`` event; ``attached``, ``detached`` and ``updated`` are sent.
"""

from __future__ import annotations

from sandbox.replica import crud
from sandbox.replica.context import Ctx
from sandbox.replica.crud import check_params
from sandbox.replica.errors import ApiError, invalid_param, missing_param, resource_missing
from sandbox.replica.forms import as_int
from sandbox.replica.listing import list_object, parse_page_query
from sandbox.replica.registry import Obj, Params, Registry, ResourceSpec
from sandbox.replica.resources import payment_method_catalog as catalog

_WRITABLE = frozenset({"allow_redisplay", "billing_details", "metadata"})
_CREATE = _WRITABLE | catalog.TYPES | {"type", "customer", "payment_method", "radar_options"}
_BILLING = {"address": None, "email": None, "name": None, "phone": None, "tax_id": None}
_ADDRESS = {"city": None, "country": None, "line1": None, "line2": None, "postal_code": None,
            "state": None}


def _billing(raw: Obj | None) -> Obj:
    billing = dict(_BILLING)
    for key, value in (raw or {}).items():
        if key in billing:
            billing[key] = value or None
    if isinstance(billing["address"], dict):
        billing["address"] = _ADDRESS | {k: v or None for k, v in billing["address"].items()}
    return billing


def build(ctx: Ctx, kind: str, details: Obj, outcome: str, billing: Obj | None = None,
          *, metadata: Obj | None = None) -> Obj:
    """Store a new PaymentMethod of `kind` (no event: Stripe sends none on creation)."""
    pm = ctx.new_object("payment_method")
    pm.pop("card", None)
    pm.update(type=kind, customer=None, customer_account=None, allow_redisplay="unspecified",
              billing_details=_billing(billing), metadata=dict(metadata or {}))
    pm[kind] = details
    pm["_outcome"] = outcome
    return ctx.insert(pm)


def _card(params: Obj) -> tuple[Obj, str]:
    token = params.get("token")
    if token:
        found = catalog.card_for_token(str(token))
        if found is None:
            raise resource_missing("token", str(token), param="card[token]")
        return found
    for name in ("number", "exp_month", "exp_year"):
        if not params.get(name):
            raise missing_param(f"card[{name}]")
    exp_month = as_int(params, "exp_month") or 0
    if not 1 <= exp_month <= 12:
        raise ApiError(402, "Your card's expiration month is invalid.", type="card_error",
                       code="invalid_expiry_month", param="exp_month")
    return catalog.card_from_number(str(params["number"]), exp_month,
                                    as_int(params, "exp_year") or 0)


def _details(kind: str, params: Params) -> tuple[Obj, str]:
    raw = params.get(kind) or {}
    if not isinstance(raw, dict):
        raw = {}
    if kind == "card":
        return _card(raw)
    if kind == "sepa_debit":
        if not raw.get("iban"):
            raise missing_param("sepa_debit[iban]")
        return catalog.sepa_details(str(raw["iban"]))
    if kind == "us_bank_account":
        for name in ("routing_number", "account_number"):
            if not raw.get(name):
                raise missing_param(f"us_bank_account[{name}]")
        return catalog.us_bank_details(
            str(raw["routing_number"]), str(raw["account_number"]),
            raw.get("account_holder_type") or "individual", raw.get("account_type") or "checking")
    if kind == "boleto":
        if not raw.get("tax_id"):
            raise missing_param("boleto[tax_id]")
        return {"tax_id": str(raw["tax_id"])}, "voucher"
    if kind in catalog.VOUCHERS:
        return {}, "voucher"
    return {}, "cash"


def create_from(ctx: Ctx, params: Params, *, prefix: str = "") -> Obj:
    """A PaymentMethod from create params (also ``payment_method_data`` of an intent)."""
    kind = params.get("type")
    if not kind:
        raise missing_param(f"{prefix}[type]" if prefix else "type")
    if kind not in catalog.TYPES:
        raise invalid_param(f"{prefix}[type]" if prefix else "type",
                            f"Invalid payment method type: {kind}. The replica supports "
                            + ", ".join(sorted(catalog.TYPES)) + ".")
    details, outcome = _details(kind, params)
    billing = params.get("billing_details") if isinstance(params.get("billing_details"),
                                                          dict) else None
    if kind in catalog.VOUCHERS:
        outcome = catalog.voucher_outcome((billing or {}).get("email"))
    pm = build(ctx, kind, details, outcome, billing, metadata=params.get("metadata") or None)
    if params.get("allow_redisplay"):
        pm["allow_redisplay"] = params["allow_redisplay"]
        ctx.replace(pm)
    return pm


def resolve(ctx: Ctx, pm_id: str, *, param: str = "payment_method") -> Obj:
    """The PaymentMethod `pm_id` names; a Stripe test id makes a fresh one each time."""
    found = catalog.magic(pm_id)
    if found is not None and ctx.find(pm_id) is None:
        kind, details, outcome, billing = found
        return build(ctx, kind, details, outcome, billing)
    return ctx.get(pm_id, "payment_method", param=param)


def _create(ctx: Ctx, params: Params) -> Obj:
    check_params(params, _CREATE)
    if params.get("payment_method"):
        return resolve(ctx, str(params["payment_method"]))
    return create_from(ctx, params)


def _attach(ctx: Ctx, params: Params, id: str) -> Obj:
    check_params(params, frozenset({"customer", "customer_account"}), ("customer",))
    customer = ctx.get(str(params["customer"]), "customer", param="customer")
    pm = resolve(ctx, id, param="payment_method")
    if pm.get("customer") == customer["id"]:
        return pm
    if pm.get("customer"):
        raise ApiError(400, "The payment method you provided has already been attached to a "
                       "customer.", code="payment_method_unexpected_state")
    pm["customer"] = customer["id"]
    ctx.replace(pm)
    ctx.emit("payment_method.attached", pm)
    return pm


def attach(ctx: Ctx, pm: Obj, customer_id: str) -> Obj:
    """Attach `pm` to a customer (used by flows that save a PM: setup_future_usage)."""
    return _attach(ctx, {"customer": customer_id}, pm["id"])


def _detach(ctx: Ctx, params: Params, id: str) -> Obj:
    check_params(params, frozenset())
    pm = crud.load(ctx, SPEC, id)
    if not pm.get("customer"):
        raise ApiError(400, "The payment method you provided is not attached to a customer so "
                       "detachment is impossible.", code="payment_method_unexpected_state")
    customer = ctx.find(pm["customer"])
    settings = (customer or {}).get("invoice_settings") or {}
    if customer and settings.get("default_payment_method") == pm["id"]:
        settings["default_payment_method"] = None
        ctx.replace(customer)
    pm["customer"] = None
    ctx.replace(pm)
    ctx.emit("payment_method.detached", pm)
    return pm


def _customer_list(ctx: Ctx, params: Params, customer: str) -> Obj:
    check_params(params, frozenset({"type", "limit", "starting_after", "ending_before",
                                    "allow_redisplay"}))
    ctx.get(customer, "customer", param="customer")
    query = parse_page_query(params, filters={"type": "type",
                                              "allow_redisplay": "allow_redisplay"})
    query.types = ["payment_method"]
    query.filters["customer"] = customer
    page = ctx.engine.store.list(ctx.account, query)
    return list_object(f"/v1/customers/{customer}/payment_methods", page)


def _customer_retrieve(ctx: Ctx, params: Params, customer: str, id: str) -> Obj:
    ctx.get(customer, "customer", param="customer")
    pm = crud.load(ctx, SPEC, id)
    if pm.get("customer") != customer:
        raise resource_missing("payment_method", id)
    return pm


def _retrieve(ctx: Ctx, params: Params, id: str) -> Obj:
    check_params(params, frozenset())
    if catalog.magic(id) is not None and ctx.find(id) is None:
        return resolve(ctx, id)
    return crud.load(ctx, SPEC, id)


def _prepare(ctx: Ctx, obj: Obj, params: Params, creating: bool) -> None:
    card = params.get("card")
    if isinstance(card, dict) and obj.get("type") == "card":
        for name in ("exp_month", "exp_year"):
            if card.get(name):
                obj["card"][name] = as_int(card, name)
    if isinstance(params.get("billing_details"), dict):
        merged = {k: v for k, v in obj["billing_details"].items() if v is not None}
        obj["billing_details"] = _billing(merged | params["billing_details"])


SPEC = ResourceSpec(
    object="payment_method",
    path="/v1/payment_methods",
    fields=frozenset({"allow_redisplay", "metadata"}),
    update_params=_WRITABLE | {"card", "us_bank_account", "link", "payto"},
    filters={"customer": "customer", "type": "type"},
    prepare=_prepare,
    operations=frozenset({"list", "update"}),
    events=frozenset({"updated"}),
)


def register(reg: Registry) -> None:
    reg.resource(SPEC)
    reg.route("POST", SPEC.path, _create)
    reg.route("GET", SPEC.path + "/{id}", _retrieve)
    reg.route("POST", SPEC.path + "/{id}/attach", _attach)
    reg.route("POST", SPEC.path + "/{id}/detach", _detach)
    reg.route("GET", "/v1/customers/{customer}/payment_methods", _customer_list)
    reg.route("GET", "/v1/customers/{customer}/payment_methods/{id}", _customer_retrieve)
