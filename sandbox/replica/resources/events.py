"""``GET /v1/events`` (``type`` with ``*`` wildcards, ``types[]``, ``created``,
``delivery_success``: false = some endpoint has not acknowledged it, true = all have) and
``GET /v1/events/{id}``. Events are written by the engine (`Ctx.emit`), never by clients."""

from __future__ import annotations

from sandbox.replica.context import Ctx
from sandbox.replica.crud import check_params
from sandbox.replica.errors import ApiError, resource_missing
from sandbox.replica.forms import as_list
from sandbox.replica.listing import list_object, parse_page_query
from sandbox.replica.registry import Obj, Params, Registry

_LIST = frozenset({"limit", "starting_after", "ending_before", "created", "type", "types",
                   "delivery_success"})


def list_events(ctx: Ctx, params: Params) -> Obj:
    check_params(params, _LIST)
    query = parse_page_query(params)
    kind = params.get("type")
    types = as_list(params, "types")
    if kind and types:
        raise ApiError(400, "You may only specify one of these parameters: type, types.",
                       param="types")
    if kind and "*" in kind:
        query.type_glob = kind
    elif kind:
        query.types = [kind]
    elif types:
        query.types = [str(t) for t in types]
    success = params.get("delivery_success")
    if success is not None:
        if str(success) not in ("true", "false"):
            raise ApiError(400, "Invalid boolean: " + str(success), param="delivery_success")
        query.delivered = str(success) == "true"
    page = ctx.engine.store.list(ctx.account, query, table="events")
    if page.cursor_missing:
        raise resource_missing("event", query.starting_after or query.ending_before,
                               param="starting_after" if query.starting_after else "ending_before")
    return list_object("/v1/events", page)


def retrieve_event(ctx: Ctx, params: Params, id: str) -> Obj:
    event = ctx.engine.store.get(ctx.account, id, table="events")
    if event is None:
        raise resource_missing("event", id)
    return event


def register(reg: Registry) -> None:
    reg.route("GET", "/v1/events", list_events)
    reg.route("GET", "/v1/events/{id}", retrieve_event)
