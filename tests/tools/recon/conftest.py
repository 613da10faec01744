"""Hand-built canonical frames for the engine tests: a small mapping and row builders."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from tools.recon.engine import ReconInput, ReconOptions, reconcile, to_run
from tools.recon.mapping import Mapping
from tools.recon.models import ReconRun
from tools.recon.stripe_frames import OBJECT_FIELDS, _empty

MAPPING = Mapping.model_validate({
    "version": 1,
    "entities": {
        "customer": {"table": "accounts", "stripe_object": "customer",
                     "key": "stripe_customer_id", "livemode": "livemode",
                     "account": "connect_account_id", "fields": {"email": "email"}},
        "subscription": {"table": "subscriptions", "stripe_object": "subscription",
                         "key": "stripe_subscription_id", "livemode": "livemode",
                         "account": "connect_account_id",
                         "fields": {"status": "status",
                                    "quantity": {"column": "seats", "type": "int"}}},
        "invoice": {"table": "invoices", "stripe_object": "invoice", "key": "stripe_invoice_id",
                    "livemode": "livemode", "account": "connect_account_id",
                    "fields": {"status": "status", "currency": "currency",
                               "total": {"column": "total", "type": "money",
                                         "currency": "currency"}}},
        "payment": {"table": "payments", "stripe_object": "payment_intent",
                    "key": "stripe_payment_intent_id", "livemode": "livemode",
                    "account": "connect_account_id",
                    "fields": {"status": "status", "currency": "currency",
                               "customer": {"column": "account_id", "type": "ref",
                                            "entity": "customer"},
                               "amount": {"column": "amount", "type": "money",
                                          "currency": "currency"},
                               "amount_received": {"column": "amount_received",
                                                   "type": "money", "currency": "currency"}}},
        "refund": {"table": "refunds", "stripe_object": "refund", "key": "stripe_refund_id",
                   "livemode": "livemode", "account": "connect_account_id",
                   "fields": {"status": "status", "currency": "currency",
                              "amount": {"column": "amount", "type": "money",
                                         "currency": "currency"}}},
        "entitlement": {"table": "entitlements", "fields": {
            "feature": "feature", "active": {"column": "active", "type": "bool"},
            "source_type": "source_type", "source_id": "source_id"}},
        "processed_event": {"table": "processed_webhooks", "stripe_object": "event",
                            "key": "event_id", "fields": {
                                "type": "type", "object_id": "object_id",
                                "created": {"column": "event_created", "type": "timestamp"},
                                "outcome": {"column": "outcome", "stripe": None}}},
    },
})

_TYPES = {"int": pl.Int64, "money": pl.Int64, "timestamp": pl.Int64, "bool": pl.Boolean}


def _schema(entity: str, side: str, mapping: Mapping = MAPPING) -> dict[str, Any]:
    spec = mapping.entities[entity]
    schema: dict[str, Any] = {"stripe_id": pl.String}
    # the adapter reads account and livemode only when the mapping names their columns
    if side == "stripe" or spec.account:
        schema["account"] = pl.String
    if side == "stripe" or spec.livemode:
        schema["livemode"] = pl.Boolean
    if side == "stripe":
        schema |= {"created": pl.Int64, "deleted": pl.Boolean}
    else:
        schema["local_key"] = pl.String
    for name, f in spec.fields.items():
        if side == "stripe" and not f.compared:
            continue
        schema[name] = _TYPES.get(f.type, pl.String)
    return schema


def frame(entity: str, side: str, rows: list[dict[str, Any]],
          mapping: Mapping = MAPPING) -> pl.DataFrame:
    schema = _schema(entity, side, mapping)
    full = []
    for i, row in enumerate(rows):
        base: dict[str, Any] = {"livemode": False, "account": None}
        if side == "stripe":
            base |= {"created": 1_700_000_000 + i, "deleted": False}
        else:
            base["local_key"] = f"{mapping.entities[entity].table}:{i + 1}"
        full.append({k: {**base, **row}.get(k) for k in schema})
    return pl.DataFrame(full, schema=schema, orient="row")


def objects(**frames: list[dict[str, Any]]) -> dict[str, pl.DataFrame]:
    """Fixed Stripe extractions (object_frames), e.g. objects(payment_intent=[...])."""
    out = {}
    for otype, fields in OBJECT_FIELDS.items():
        empty = _empty(fields)
        rows = frames.get(otype.replace(".", "_"), [])
        columns = list(empty.columns) + (["events"] if otype == "webhook_endpoint" else [])
        schema = {**empty.schema, **({"events": pl.String} if otype == "webhook_endpoint"
                                     else {})}
        full = [{k: {"livemode": False, "account": None, "created": 1_700_000_000,
                     "deleted": False, **r}.get(k) for k in columns} for r in rows]
        out[otype] = pl.DataFrame(full, schema=schema, orient="row") if rows else empty
    return out


def run_engine(stripe: dict[str, list[dict[str, Any]]], local: dict[str, list[dict[str, Any]]],
               objs: dict[str, pl.DataFrame] | None = None, *, mapping: Mapping = MAPPING,
               **options: Any) -> ReconRun:
    s = {e: frame(e, "stripe", rows, mapping) for e, rows in stripe.items()}
    lo = {e: frame(e, "local", rows, mapping) for e, rows in local.items()}
    for e in s:
        lo.setdefault(e, frame(e, "local", [], mapping))
    for e in lo:
        if mapping.entities[e].stripe_object and mapping.entities[e].key and e not in s:
            s[e] = frame(e, "stripe", [], mapping)
    opts = ReconOptions(expected_livemode=False, **options)
    return to_run(reconcile(ReconInput(mapping=mapping, stripe=s, objects=objs or objects(),
                                       local=lo), opts))


def classes(run: ReconRun) -> list[tuple[str, str | None]]:
    return sorted((d.class_.value, d.stripe_id) for d in run.discrepancies)


@pytest.fixture
def mapping() -> Mapping:
    return MAPPING
