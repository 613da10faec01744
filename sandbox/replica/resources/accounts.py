"""Connected accounts (``/v1/accounts``) and the current account (``GET /v1/account``).

Accounts live in the platform's scope whatever ``Stripe-Account`` says; the platform
account itself is not an object of the list (it is kept in the store's meta table).
``account.updated`` is emitted in the connected account, so it carries ``account`` and
reaches platform endpoints created with ``connect=true``.
"""

from __future__ import annotations

import copy

from sandbox.replica import crud
from sandbox.replica.context import Ctx, public
from sandbox.replica.errors import invalid_param, resource_missing
from sandbox.replica.registry import Obj, Params, Registry, ResourceSpec

_WRITABLE = frozenset({
    "business_profile", "business_type", "country", "default_currency", "email", "metadata",
    "settings", "tos_acceptance",
})
_TYPES = ("custom", "express", "standard", "none")


def _prepare(ctx: Ctx, obj: Obj, params: Params, creating: bool) -> None:
    if not creating:
        return
    kind = params.get("type") or ("none" if params.get("controller") else "custom")
    if kind not in _TYPES:
        raise invalid_param("type", f"Invalid type: must be one of {', '.join(_TYPES)}")
    obj["type"] = kind
    obj["country"] = str(obj.get("country") or "US").upper()
    obj["default_currency"] = params.get("default_currency") or (
        "eur" if obj["country"] in ("DE", "FR", "NL", "ES", "IT", "IE", "BE", "AT") else
        "gbp" if obj["country"] == "GB" else "usd"
    )
    requested = params.get("capabilities") or {}
    if requested:
        obj["capabilities"] = {name: "active" for name in requested}
    obj["external_accounts"]["url"] = f"/v1/accounts/{obj['id']}/external_accounts"
    if obj.get("email") == "site@stripe.com":
        obj["email"] = None


SPEC = ResourceSpec(
    object="account",
    path="/v1/accounts",
    defaults={
        "charges_enabled": True, "payouts_enabled": True, "details_submitted": True,
        "email": None, "business_type": None,
        "requirements": {
            "alternatives": [], "current_deadline": None, "currently_due": [],
            "disabled_reason": None, "errors": [], "eventually_due": [], "past_due": [],
            "pending_verification": [],
        },
    },
    fields=_WRITABLE,
    create_params=_WRITABLE | {"type", "controller", "capabilities", "company", "individual",
                               "external_account", "documents", "groups"},
    update_params=_WRITABLE | {"capabilities", "company", "individual", "external_account"},
    platform_scoped=True,
    prepare=_prepare,
    operations=frozenset({"list", "create", "delete"}),
    events=frozenset(),
)


def current(ctx: Ctx, params: Params) -> Obj:
    if not ctx.is_connected:
        return ctx.engine.platform_account()
    return crud.load(ctx, SPEC, ctx.account)


def retrieve(ctx: Ctx, params: Params, id: str) -> Obj:
    if id == ctx.platform:
        return ctx.engine.platform_account()
    if ctx.is_connected and id != ctx.account:
        raise resource_missing("account", id)
    return crud.load(ctx, SPEC, id)


def update(ctx: Ctx, params: Params, id: str) -> Obj:
    account = crud.load(ctx, SPEC, id)
    connected = ctx.for_account(id)
    before = copy.deepcopy(public(account))
    account = crud.update(ctx, SPEC, account, params)
    changed = crud.diff(before, public(account))
    if changed:
        connected.emit("account.updated", account, previous=changed)
    return account


def register(reg: Registry) -> None:
    reg.resource(SPEC)
    reg.route("GET", "/v1/account", current)
    reg.route("GET", SPEC.path + "/{id}", retrieve)
    reg.route("POST", SPEC.path + "/{id}", update)
