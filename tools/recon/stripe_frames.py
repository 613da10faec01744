"""Snapshot → canonical Stripe-side frames.

Two views, both vectorised (Polars JSON-path extraction over the stored object JSON):

- `entity_frames`: per mapped entity, the Stripe objects it mirrors with every compared
  field extracted through the mapping's ``stripe`` paths (so both sides share field names);
- `object_frames`: fixed extractions the classification rules read whatever the mapping
  says (payment status, refunds, disputes, checkout sessions, events, webhook endpoints).

A path may continue through an expandable id (``latest_charge.amount_refunded``): when the
whole path is absent and its first step holds an id, the rest is read from that object.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import polars as pl

from core.ids import stripe_resource_for
from tools.recon.mapping import FieldSpec, Mapping
from tools.recon.payouts import BALANCE_TXN_FIELDS
from tools.recon.stripe_expect import v2_entity_frame

__all__ = ["ObjectSource", "entity_frames", "extract", "object_frames", "OBJECT_FIELDS"]

ObjectSource = Callable[[str], pl.DataFrame]
"""object type → snapshot frame (id, object, account, livemode, created, data, ...)."""

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_BASE = ["id", "account", "livemode", "created", "deleted"]


def _jsonpath(path: str) -> str:
    out = "$"
    for name, index in _STEP.findall(path):
        out += f"[{index}]" if index else f".{name}"
    return out


def _cast(expr: pl.Expr, kind: str) -> pl.Expr:
    if kind in ("int", "money", "timestamp"):
        return expr.cast(pl.Float64, strict=False).cast(pl.Int64, strict=False)
    if kind in ("bool", "flag"):
        return (expr == "true").fill_null(False)
    # an expanded object where an id was expected: keep its id
    return (pl.when(expr.str.starts_with("{"))
            .then(expr.str.json_path_match("$.id")).otherwise(expr))


def extract(frame: pl.DataFrame, fields: dict[str, tuple[str, str]],
            source: ObjectSource | None = None) -> pl.DataFrame:
    """``fields``: output column → (Stripe path, type). Keeps the base columns."""
    exprs = [pl.col("data").str.json_path_match(_jsonpath(p)).alias(f"__{n}")
             for n, (p, _) in fields.items()]
    base = [c for c in _BASE if c in frame.columns and c not in fields]
    raw = frame.select([*[pl.col(c) for c in base], pl.col("data"), *exprs])
    for name, (path, _kind) in fields.items():
        steps = _STEP.findall(path)
        if source is not None and len(steps) > 1 and not steps[0][1]:
            raw = _through_id(raw, name, steps[0][0], path.split(".", 1)[1], source)
    return raw.select(
        [*[pl.col(c) for c in base],
         *[_cast(pl.col(f"__{n}"), kind).alias(n) for n, (_, kind) in fields.items()]]
    )


def _through_id(raw: pl.DataFrame, name: str, head: str, rest: str,
                source: ObjectSource) -> pl.DataFrame:
    """Fill `__name` from the object whose id sits at `head`, where the path was absent."""
    heads = raw.select(pl.col("data").str.json_path_match(f"$.{head}").alias("__h"))["__h"]
    sample = heads.drop_nulls().head(1).to_list()
    if not sample or sample[0].startswith("{"):
        return raw
    found = stripe_resource_for(sample[0])
    if found is None:
        return raw
    target = source(found[0])
    if target.is_empty():
        return raw
    lookup = target.select(pl.col("id").alias("__h"),
                           pl.col("data").str.json_path_match(_jsonpath(rest)).alias("__v"))
    joined = raw.with_columns(heads).join(lookup, on="__h", how="left", maintain_order="left")
    return joined.with_columns(pl.coalesce(f"__{name}", "__v").alias(f"__{name}")).drop(
        "__h", "__v")


def _stripe_kind(spec: FieldSpec) -> str:
    return "int" if spec.type == "money" else "string" if spec.type == "ref" else spec.type


def entity_frames(mapping: Mapping, source: ObjectSource,
                  warnings: list[str] | None = None) -> dict[str, pl.DataFrame]:
    """Per entity with a Stripe counterpart: ``stripe_id`` plus each compared field.

    Version 2 entities go through tools/recon/stripe_expect.py (row filters, expressions,
    conditions, related aggregates); what cannot be compared is appended to `warnings`.
    """
    out: dict[str, pl.DataFrame] = {}
    for name, entity in mapping.entities.items():
        if not entity.stripe_object or not entity.key:
            continue
        if mapping.version >= 2:
            if entity.kind == "mirror":
                out[name] = v2_entity_frame(name, entity, source,
                                            warnings if warnings is not None else [])
            continue
        frame = source(entity.stripe_object)
        fields = {f: (s.stripe or f, _stripe_kind(s)) for f, s in entity.fields.items()
                  if s.compared}
        extracted = extract(frame, fields, source) if frame.height else _empty(fields)
        lower = [f for f, s in entity.fields.items() if s.compared and f == "currency"]
        out[name] = extracted.rename({"id": "stripe_id"}).with_columns(
            pl.col(c).str.to_lowercase() for c in lower)
    return out


def _empty(fields: dict[str, tuple[str, str]]) -> pl.DataFrame:
    kinds = {"int": pl.Int64, "money": pl.Int64, "timestamp": pl.Int64, "bool": pl.Boolean,
             "flag": pl.Boolean}
    schema = {"id": pl.String, "account": pl.String, "livemode": pl.Boolean,
              "created": pl.Int64, "deleted": pl.Boolean}
    schema |= {n: kinds.get(k, pl.String) for n, (_, k) in fields.items()}
    return pl.DataFrame(schema=schema)


OBJECT_FIELDS: dict[str, dict[str, tuple[str, str]]] = {
    "payment_intent": {
        "status": ("status", "string"), "amount": ("amount", "int"),
        "amount_received": ("amount_received", "int"), "currency": ("currency", "string"),
        "customer": ("customer", "string"), "latest_charge": ("latest_charge", "string"),
        "order_ref": ("metadata.order_id", "string"),
        "failed": ("last_payment_error.code", "string"),
    },
    "charge": {"payment_intent": ("payment_intent", "string"), "status": ("status", "string"),
               "amount_refunded": ("amount_refunded", "int"), "refunded": ("refunded", "bool")},
    "refund": {"payment_intent": ("payment_intent", "string"), "charge": ("charge", "string"),
               "amount": ("amount", "int"), "currency": ("currency", "string"),
               "status": ("status", "string")},
    "dispute": {"payment_intent": ("payment_intent", "string"), "charge": ("charge", "string"),
                "amount": ("amount", "int"), "currency": ("currency", "string"),
                "status": ("status", "string")},
    "checkout.session": {"payment_intent": ("payment_intent", "string"),
                         "payment_status": ("payment_status", "string"),
                         "status": ("status", "string"),
                         "subscription": ("subscription", "string")},
    "subscription": {"status": ("status", "string"), "customer": ("customer", "string")},
    "invoice": {"status": ("status", "string"), "amount_paid": ("amount_paid", "int"),
                "total": ("total", "int"), "currency": ("currency", "string"),
                "post_payment_credit_notes_amount": ("post_payment_credit_notes_amount",
                                                     "int")},
    "customer": {"email": ("email", "string"), "user_ref": ("metadata.user_id", "string")},
    "event": {"type": ("type", "string"), "object_id": ("data.object.id", "string"),
              "object_type": ("data.object.object", "string"),
              "status": ("data.object.status", "string"),
              "payment_status": ("data.object.payment_status", "string")},
    "webhook_endpoint": {"status": ("status", "string"), "url": ("url", "string"),
                         "api_version": ("api_version", "string")},
    "payout": {"amount": ("amount", "int"), "currency": ("currency", "string"),
               "status": ("status", "string"), "automatic": ("automatic", "bool")},
}


def object_frames(source: ObjectSource) -> dict[str, pl.DataFrame]:
    out = {}
    for otype, fields in OBJECT_FIELDS.items():
        frame = source(otype)
        out[otype] = extract(frame, fields) if frame.height else _empty(fields)
    endpoints = source("webhook_endpoint")
    if endpoints.height:
        enabled = endpoints.select(
            pl.col("id"), pl.col("data").str.json_path_match("$.enabled_events").alias("events"))
        out["webhook_endpoint"] = out["webhook_endpoint"].join(enabled, on="id", how="left")
    # Only when fetched (per payout): absent transactions mean "not known", never a break.
    txns = source("balance_transaction")
    if txns.height:
        out["balance_transaction"] = extract(txns, BALANCE_TXN_FIELDS)
    return out
