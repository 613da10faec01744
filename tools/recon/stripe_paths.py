"""Stripe paths and mapping expressions over snapshot objects (mapping format v2).

`path_frame` turns a snapshot frame (one JSON object per row) into typed columns, one per
path a mapping reads. A path may pass through an expandable id at any step:
`items.data[0].price.product.metadata.slug` reads the subscription's price (embedded), then
the product by its id, then its metadata. Columns are typed from what the snapshot holds
(integers, floats, booleans, text); metadata values stay text, as Stripe sends them.

`related_values` aggregates other objects that point at each row (a PaymentIntent's latest
refund time, its lost disputes), for `stripe_related`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import polars as pl

from core.ids import stripe_resource_for
from tools.recon.mapping import RelatedSpec
from tools.recon.mapping_expr import compile_sql

__all__ = ["ObjectSource", "path_frame", "path_present", "related_values"]

ObjectSource = Callable[[str], pl.DataFrame]
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_BASE = ("id", "account", "livemode", "created", "deleted")


def _jsonpath(steps: list[tuple[str, str]]) -> str:
    return "$" + "".join(f"[{i}]" if i else f".{n}" for n, i in steps)


def _raw(frame: pl.DataFrame, path: str, source: ObjectSource | None,
         depth: int = 0) -> pl.Series:
    """Text of the value at `path` per row (JSON text for objects), through ids."""
    steps = _STEP.findall(path)
    value = frame.select(pl.col("data").str.json_path_match(_jsonpath(steps))).to_series()
    if source is None or depth > 3 or len(steps) < 2:
        return value
    for k in range(1, len(steps)):
        if steps[k][1] or steps[k - 1][1]:
            continue  # an index step cannot hold an id
        head = frame.select(pl.col("data").str.json_path_match(_jsonpath(steps[:k]))
                            ).to_series()
        ids = head.filter(head.is_not_null() & ~head.str.starts_with("{")
                          & ~head.str.starts_with("[") & value.is_null())
        if ids.is_empty():
            continue
        found = stripe_resource_for(ids[0])
        if found is None:
            continue
        target = source(found[0])
        if target.is_empty():
            continue
        rest = path[_offset(path, k):]
        looked = pl.DataFrame({"__h": target["id"], "__v": _raw(target, rest, source,
                                                                 depth + 1)})
        joined = pl.DataFrame({"__h": head}).join(looked, on="__h", how="left",
                                                  maintain_order="left")
        value = value.fill_null(joined["__v"])
    return value


def _offset(path: str, k: int) -> int:
    """Character offset of step `k` in a dotted path (after its dot)."""
    pos = 0
    for _ in range(k):
        match = _STEP.match(path, pos)
        assert match is not None
        pos = match.end()
        if pos < len(path) and path[pos] == ".":
            pos += 1
    return pos


def _typed(raw: pl.Series, path: str) -> pl.Series:
    if "metadata." in path or raw.null_count() == raw.len():
        return raw
    present = raw.drop_nulls()
    as_int = present.cast(pl.Int64, strict=False)
    if as_int.null_count() == 0:
        return raw.cast(pl.Int64, strict=False)
    as_float = present.cast(pl.Float64, strict=False)
    if as_float.null_count() == 0:
        return raw.cast(pl.Float64, strict=False)
    if present.is_in(["true", "false"]).all():
        return raw == "true"
    # an expanded object where an id was expected: keep its id
    return pl.Series(raw.name, raw.to_frame("v").select(
        pl.when(pl.col("v").str.starts_with("{")).then(pl.col("v").str.json_path_match("$.id"))
        .otherwise(pl.col("v"))).to_series())


def path_frame(frame: pl.DataFrame, paths: Iterable[str],
               source: ObjectSource | None) -> pl.DataFrame:
    """The frame's base columns plus one typed column per path (named by the path)."""
    base = [c for c in _BASE if c in frame.columns]
    out = frame.select(base)
    extra = []
    for path in dict.fromkeys(paths):
        if path in base:
            continue
        extra.append(_typed(_raw(frame, path, source), path).alias(path))
    return out.with_columns(extra) if extra else out


def path_present(frame: pl.DataFrame, path: str) -> bool:
    """Whether any object has the path's first key at all (a field this API version no
    longer sends is absent everywhere; a null is present)."""
    head = _STEP.findall(path)[0][0]
    if frame.is_empty() or head in _BASE:
        return True
    return bool(frame["data"].str.contains(f'"{re.escape(head)}":', literal=False).any())


def related_values(name: str, spec: RelatedSpec, source: ObjectSource,
                   where: str) -> pl.DataFrame:
    """`id` (the object pointed at) → `name` (the aggregate over the related objects)."""
    value = compile_sql(spec.value, where=f"{where}.value")
    names = set(value.names) | {spec.link}
    condition = compile_sql(spec.where, where=f"{where}.where") if spec.where else None
    if condition is not None:
        names |= condition.names
    related = source(spec.object)
    if related.is_empty():
        return pl.DataFrame(schema={"id": pl.String, name: pl.Int64})
    cols = path_frame(related, sorted(names), source)
    if condition is not None:
        cols = cols.filter(condition.evaluate(cols).fill_null(False))
    return (cols.filter(pl.col(spec.link).is_not_null())
            .group_by(pl.col(spec.link).cast(pl.String).alias("id"))
            .agg(value.expr.alias(name)))
