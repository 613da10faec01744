"""``expand[]``: replace id strings by the objects they name, along dotted paths.

``customer``, ``data.customer`` (on lists), ``latest_invoice.payment_intent`` … at most four
levels, as Stripe. Any string id that the store holds (in the request's account, or the
platform for ``acct_`` ids) can be expanded; a path through a field that is not an id or an
object answers Stripe's "This property cannot be expanded" error.
"""

from __future__ import annotations

from typing import Any

from sandbox.replica.context import Ctx, public
from sandbox.replica.errors import ApiError
from sandbox.replica.forms import as_list

MAX_DEPTH = 4


def _cannot(path: str) -> ApiError:
    return ApiError(400, f"This property cannot be expanded ({path}).", param="expand")


def _fetch(ctx: Ctx, value: Any, full: str) -> Any:
    if isinstance(value, str):
        obj = ctx.find(value)
        if obj is None:
            raise _cannot(full)
        return public(obj)
    if value is None or isinstance(value, dict):
        return value
    raise _cannot(full)


def _walk(ctx: Ctx, node: Any, parts: list[str], full: str) -> None:
    if isinstance(node, list):
        for item in node:
            _walk(ctx, item, parts, full)
        return
    if not isinstance(node, dict):
        return
    key, rest = parts[0], parts[1:]
    if key not in node:
        raise _cannot(full)
    value = node[key]
    if isinstance(value, list) and not rest:
        node[key] = [_fetch(ctx, v, full) for v in value]
        return
    if isinstance(value, dict) and value.get("object") == "list":
        if rest and rest[0] == "data":
            _walk(ctx, value, rest, full)
            return
        if not rest:
            raise _cannot(full)
    if not isinstance(value, list):
        value = _fetch(ctx, value, full)
        node[key] = value
    if rest:
        _walk(ctx, value, rest, full)


def expand(ctx: Ctx, obj: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """`obj` (made public) with every ``expand`` path of `params` expanded in place."""
    paths = as_list(params, "expand")
    obj = public(obj)
    if obj.get("object") == "list" and isinstance(obj.get("data"), list):
        obj["data"] = [public(item) for item in obj["data"]]
    for path in paths:
        parts = str(path).split(".")
        if len(parts) > MAX_DEPTH:
            raise ApiError(
                400,
                f"You cannot expand more than {MAX_DEPTH} levels of a property. "
                f"Property: {path}",
                param="expand",
            )
        _walk(ctx, obj, parts, str(path))
    return obj
