"""Stripe's published example objects (vendored `fixtures/fixtures3.json`) as templates.

A new object is a deep copy of its resource's example with the resource's `defaults`
applied (to blank out example values such as a t-shirt's description), then id, created,
livemode and request parameters. `apply_params` writes form parameters onto an object with
Stripe's semantics: ``""`` unsets a field, ``metadata`` merges key by key (``metadata=""``
clears it, ``metadata[k]=""`` drops k), strings become the ints/bools the template has.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from sandbox.replica.forms import coerce_like

FIXTURES = Path(__file__).parent / "fixtures" / "fixtures3.json"


@lru_cache(maxsize=1)
def _fixtures() -> dict[str, Any]:
    return json.loads(FIXTURES.read_text())["resources"]


def has_template(object_type: str) -> bool:
    return object_type in _fixtures()


def template(object_type: str) -> dict[str, Any]:
    """A fresh deep copy of Stripe's example `object_type` (KeyError when there is none)."""
    return copy.deepcopy(_fixtures()[object_type])


def apply_metadata(current: Any, value: Any) -> dict[str, str]:
    if value == "" or value is None:
        return {}
    merged = dict(current or {})
    if isinstance(value, list):  # metadata[0]=x decodes as a list; keys were indexes
        value = {str(i): v for i, v in enumerate(value)}
    for key, item in value.items():
        if item == "":
            merged.pop(key, None)
        else:
            merged[key] = str(item)
    return merged


def _unset_to_none(value: Any) -> Any:
    if value == "":
        return None
    if isinstance(value, dict):
        return {k: _unset_to_none(v) for k, v in value.items()}
    return value


def apply_params(
    obj: dict[str, Any], params: dict[str, Any], example: dict[str, Any], *, fields: set[str]
) -> None:
    """Write `params` that name one of `fields` onto `obj`, typed like `example`."""
    for name, value in params.items():
        if name not in fields:
            continue
        if name == "metadata":
            obj["metadata"] = apply_metadata(obj.get("metadata"), value)
            continue
        value = coerce_like(_unset_to_none(value), example.get(name))
        current = obj.get(name)
        if isinstance(value, dict) and isinstance(current, dict):
            # Sub-hashes keep the keys Stripe always shows (null when not given).
            shape = example.get(name) if isinstance(example.get(name), dict) else current
            merged = {k: None for k in shape} | current | value
            obj[name] = merged
        elif isinstance(value, dict) and isinstance(example.get(name), dict):
            obj[name] = {k: None for k in example[name]} | value
        else:
            obj[name] = value
