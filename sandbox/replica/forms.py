"""Stripe's form encoding, decoded into nested dicts and lists.

``a[b][c]=x`` → ``{"a": {"b": {"c": "x"}}}``; ``items[0][price]=p`` → ``{"items": [{"price":
"p"}]}``; ``expand[]=a&expand[]=b`` → ``{"expand": ["a", "b"]}``. Values stay strings;
an empty string means "unset" and is kept as ``""`` for the handler to interpret. Query
strings of GET/DELETE use the same rules. `coerce_like` turns strings into the ints/bools
the template of a resource has at the same place; `as_int`/`as_bool` do it for one field.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from sandbox.replica.errors import ApiError, invalid_param

_APPEND = object()
_INT = re.compile(r"^-?\d+$")


def _segments(key: str) -> list[str]:
    head, sep, rest = key.partition("[")
    if not sep:
        return [key]
    parts = [head]
    rest = "[" + rest
    for match in re.finditer(r"\[([^\]]*)\]", rest):
        parts.append(match.group(1))
    return parts


def _finalize(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(k is _APPEND or (isinstance(k, str) and k.isdigit()) for k in node):
        ordered = sorted(
            node.items(), key=lambda kv: (kv[0] is _APPEND, 0 if kv[0] is _APPEND else int(kv[0]))
        )
        out: list[Any] = []
        for key, value in ordered:
            if key is _APPEND:
                out.extend(_finalize(v) for v in value)
            else:
                out.append(_finalize(value))
        return out
    return {k: _finalize(v) for k, v in node.items()}


def decode(raw: str | bytes) -> dict[str, Any]:
    """Decode an ``application/x-www-form-urlencoded`` body or query string."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    root: dict[Any, Any] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        parts = _segments(key)
        node = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "" and i > 0:
                bucket = node.setdefault(_APPEND, [])
                if last:
                    bucket.append(value)
                    break
                child: dict[Any, Any] = {}
                bucket.append(child)
                node = child
                continue
            if last:
                node[part] = value
            else:
                nxt = node.get(part)
                if not isinstance(nxt, dict):
                    nxt = {}
                    node[part] = nxt
                node = nxt
    return _finalize(root)


def coerce_like(value: Any, example: Any) -> Any:
    """Convert form strings to the JSON type `example` has (recursively, best effort)."""
    if isinstance(value, str):
        if isinstance(example, bool):
            if value in ("true", "false"):
                return value == "true"
        elif isinstance(example, int) and _INT.match(value):
            return int(value)
        elif isinstance(example, float):
            try:
                return float(value)
            except ValueError:
                return value
        return value
    if isinstance(value, dict) and isinstance(example, dict):
        return {k: coerce_like(v, example.get(k)) for k, v in value.items()}
    if isinstance(value, list) and isinstance(example, list) and example:
        return [coerce_like(v, example[0]) for v in value]
    return value


def as_int(params: dict[str, Any], name: str, *, default: int | None = None) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INT.match(value):
        return int(value)
    raise invalid_param(name, f"Invalid integer: {value}")


def as_bool(params: dict[str, Any], name: str, *, default: bool | None = None) -> bool | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise invalid_param(name, f"Invalid boolean: {value}")


def as_list(params: dict[str, Any], name: str) -> list[Any]:
    value = params.get(name)
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [value]
    raise ApiError(400, f"Invalid array: {name}", code="parameter_invalid", param=name)
