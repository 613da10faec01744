"""Generic list/create/retrieve/update/delete handlers built from a `ResourceSpec`.

They validate params (unknown/required), start new objects from the template, apply
params with Stripe's semantics, call the spec's `prepare` hook, store, and emit
``{object}.created|updated|deleted`` (``updated`` carries ``previous_attributes`` and is
skipped when nothing changed, as Stripe does).
"""

from __future__ import annotations

import copy
from typing import Any

from sandbox.replica.context import Ctx, public
from sandbox.replica.errors import missing_param, resource_missing, unknown_param
from sandbox.replica.listing import list_object, parse_page_query
from sandbox.replica.registry import Handler, Obj, ResourceSpec
from sandbox.replica.templates import apply_params, template

_ALWAYS = frozenset({"expand"})
_SYSTEM = frozenset({"id", "object", "created", "livemode", "updated"})
_LIST_COMMON = frozenset({"limit", "starting_after", "ending_before", "created", "expand"})


def check_params(params: Obj, allowed: frozenset[str] | None, required: tuple[str, ...] = ()):
    if allowed is not None:
        for name in params:
            if name not in allowed and name not in _ALWAYS:
                raise unknown_param(name)
    for name in required:
        if params.get(name) in (None, ""):
            raise missing_param(name)


def _fields(spec: ResourceSpec) -> set[str]:
    if spec.fields is not None:
        return set(spec.fields)
    return set(template(spec.object)) - _SYSTEM


def _scope(ctx: Ctx, spec: ResourceSpec) -> str:
    return ctx.platform if spec.platform_scoped else ctx.account


def diff(before: Any, after: Any) -> Any:
    """``previous_attributes``: old values of what changed (sub-hashes key by key)."""
    out: dict[str, Any] = {}
    for key in set(before) | set(after):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict) and key != "object":
            out[key] = diff(old, new)
        else:
            out[key] = old if key in before else None
    return out


def load(ctx: Ctx, spec: ResourceSpec, object_id: str) -> Obj:
    obj = ctx.engine.store.get(_scope(ctx, spec), object_id)
    if obj is None or obj.get("object") != spec.object or obj.get("deleted"):
        raise resource_missing(spec.object, object_id)
    return obj


def create(ctx: Ctx, spec: ResourceSpec, params: Obj) -> Obj:
    """Create an object of `spec` from params (usable by custom handlers too)."""
    check_params(params, spec.create_params, spec.required)
    obj = ctx.new_object(spec.object)
    apply_params(obj, params, template(spec.object), fields=_fields(spec))
    if spec.prepare:
        spec.prepare(ctx, obj, params, True)
    ctx.insert(obj, account=_scope(ctx, spec))
    if "created" in spec.events:
        ctx.emit(f"{spec.object}.created", obj)
    return obj


def update(ctx: Ctx, spec: ResourceSpec, obj: Obj, params: Obj) -> Obj:
    check_params(params, spec.update_params)
    before = copy.deepcopy(obj)
    apply_params(obj, params, template(spec.object), fields=_fields(spec))
    if spec.prepare:
        spec.prepare(ctx, obj, params, False)
    changed = diff(public(before), public(obj))
    if changed or before != obj:
        if "updated" in obj and changed:
            obj["updated"] = ctx.now()
        ctx.replace(obj, account=_scope(ctx, spec))
    if changed and "updated" in spec.events:
        ctx.emit(f"{spec.object}.updated", obj, previous=changed)
    return obj


def delete(ctx: Ctx, spec: ResourceSpec, obj: Obj) -> Obj:
    stub = {"id": obj["id"], "object": spec.object, "deleted": True}
    ctx.engine.store.tombstone(_scope(ctx, spec), obj["id"], stub)
    if "deleted" in spec.events:
        ctx.emit(f"{spec.object}.deleted", obj)
    return stub


def list_handler(spec: ResourceSpec) -> Handler:
    allowed = _LIST_COMMON | {f.removesuffix("[]").split(".")[0] for f in spec.filters}

    def handler(ctx: Ctx, params: Obj) -> Obj:
        check_params(params, allowed)
        query = parse_page_query(params, filters=spec.filters)
        query.types = [spec.object]
        page = ctx.engine.store.list(_scope(ctx, spec), query)
        if page.cursor_missing:
            param = "starting_after" if query.starting_after else "ending_before"
            raise resource_missing(spec.object, query.starting_after or query.ending_before,
                                   param=param)
        return list_object(spec.path, page)

    return handler


def create_handler(spec: ResourceSpec) -> Handler:
    def handler(ctx: Ctx, params: Obj) -> Obj:
        return create(ctx, spec, params)

    return handler


def retrieve_handler(spec: ResourceSpec) -> Handler:
    def handler(ctx: Ctx, params: Obj, id: str) -> Obj:
        obj = ctx.engine.store.get(_scope(ctx, spec), id)
        if obj is not None and obj.get("deleted") and spec.retrieve_deleted:
            return obj
        return load(ctx, spec, id)

    return handler


def update_handler(spec: ResourceSpec) -> Handler:
    def handler(ctx: Ctx, params: Obj, id: str) -> Obj:
        return update(ctx, spec, load(ctx, spec, id), params)

    return handler


def delete_handler(spec: ResourceSpec) -> Handler:
    def handler(ctx: Ctx, params: Obj, id: str) -> Obj:
        return delete(ctx, spec, load(ctx, spec, id))

    return handler
