"""List endpoints: parameters (limit, cursors, created ranges, equality filters) and pages.

``{"object": "list", "data": [...], "has_more": bool, "url": "/v1/customers"}``, newest
first (created desc, then seq desc). ``limit`` 1–100 (default 10); ``starting_after`` /
``ending_before`` are object ids; ``created`` is an int or ``{gt,gte,lt,lte}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.replica.errors import ApiError, invalid_param
from sandbox.replica.forms import as_list

_OPS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


@dataclass
class PageQuery:
    limit: int = 10
    starting_after: str | None = None
    ending_before: str | None = None
    created: dict[str, int] = field(default_factory=dict)  # SQL operator -> timestamp
    filters: dict[str, Any] = field(default_factory=dict)  # field path -> value or list
    types: list[str] = field(default_factory=list)  # object types (events: event types)
    type_glob: str | None = None  # events: ``customer.*``
    delivered: bool | None = None  # events: delivery_success (pending_webhooks == 0 or > 0)


@dataclass
class Page:
    data: list[dict[str, Any]]
    has_more: bool
    cursor_missing: bool = False


def _int(value: Any, param: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    raise invalid_param(param, f"Invalid integer: {value}")


def _dig(params: dict[str, Any], dotted: str) -> Any:
    """``recurring.interval`` reads ``recurring[interval]``."""
    node: Any = params
    for part in dotted.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def parse_range(params: dict[str, Any], name: str) -> dict[str, int]:
    """``created=123`` or ``created[gte]=..&created[lt]=..`` → {sql op: ts}."""
    raw = params.get(name)
    if raw is None or raw == "":
        return {}
    if isinstance(raw, dict):
        out = {}
        for op, value in raw.items():
            if op not in _OPS:
                raise ApiError(
                    400, f"Received unknown parameter: {name}[{op}]",
                    code="parameter_unknown", param=f"{name}[{op}]",
                )
            out[_OPS[op]] = _int(value, f"{name}[{op}]")
        return out
    return {"=": _int(raw, name)}


def parse_page_query(
    params: dict[str, Any], *, filters: dict[str, str] | None = None
) -> PageQuery:
    """Common list parameters plus the resource's equality filters (param -> field path)."""
    limit = params.get("limit", 10)
    try:
        limit = int(limit)
    except (TypeError, ValueError):
        raise invalid_param("limit", f"Invalid integer: {limit}") from None
    if not 1 <= limit <= 100:
        raise ApiError(
            400,
            "This value must be greater than or equal to 1 and less than or equal to 100."
            if limit > 0
            else "This value must be greater than or equal to 1.",
            code="parameter_invalid_integer",
            param="limit",
        )
    if params.get("starting_after") and params.get("ending_before"):
        raise ApiError(
            400, "You may only specify one of these parameters: ending_before, starting_after.",
            param="ending_before",
        )
    query = PageQuery(
        limit=limit,
        starting_after=params.get("starting_after") or None,
        ending_before=params.get("ending_before") or None,
        created=parse_range(params, "created"),
    )
    for param, path in (filters or {}).items():
        if param.endswith("[]"):
            values = as_list(params, param[:-2])
            if values:
                query.filters[path] = values
            continue
        value = _dig(params, param)
        if value not in (None, ""):
            if isinstance(value, str) and value in ("true", "false"):
                value = 1 if value == "true" else 0  # json_extract gives 1/0 for booleans
            query.filters[path] = value
    return query


def page_of(items: list[dict[str, Any]], query: PageQuery) -> Page:
    """One page of a list computed in memory (already in list order, ids stable between
    requests), by the query's limit and cursors."""
    ids = [item["id"] for item in items]
    first = 0
    if query.starting_after:
        first = ids.index(query.starting_after) + 1 if query.starting_after in ids else len(ids)
    elif query.ending_before in ids:
        first = max(0, ids.index(query.ending_before) - query.limit)
    return Page(data=items[first:first + query.limit],
                has_more=first + query.limit < len(items))


def list_object(url: str, page: Page) -> dict[str, Any]:
    return {"object": "list", "data": page.data, "has_more": page.has_more, "url": url}
