"""WEBHOOK_GAP: windows (or whole event types) with events in Stripe and none processed.

Only event types the user's endpoint receives count: the types it has processed at least
once, or its webhook endpoints' enabled events. Events before the first processed one (the
handler was not live yet) and within the grace period at the end (still being delivered)
are left out. A type never processed at all is one gap; otherwise each run of at least
``min_run`` consecutive unprocessed events is one.
"""

from __future__ import annotations

import json

import polars as pl

from tools.recon.rules import DISC_SCHEMA

__all__ = ["find_webhook_gaps"]

EVIDENCE_CAP = 50


def _enabled(endpoints: pl.DataFrame) -> tuple[bool, set[str]]:
    if endpoints.is_empty() or "events" not in endpoints.columns:
        return False, set()
    types: set[str] = set()
    for raw in endpoints.filter(pl.col("status").fill_null("enabled") == "enabled")["events"]:
        try:
            types |= set(json.loads(raw or "[]"))
        except ValueError:
            continue
    return bool(types), types


def _gap(window: pl.DataFrame, reason: str, types: list[str] | None = None) -> dict[str, object]:
    return {
        "class": "WEBHOOK_GAP", "entity": "event", "stripe_id": window["id"][0],
        "local_key": None, "fields": [], "amount_minor": None, "currency": None,
        "s_contrib": 0, "s_cur": None, "l_contrib": 0, "l_cur": None,
        "ev_stripe": window["id"].head(EVIDENCE_CAP).to_list(), "ev_local": [],
        "reason": f"{reason}: {window.height} events from {window['created'].min()} to "
                  f"{window['created'].max()} not processed",
        "needs_review": False, "confidence": None, "s_values": json.dumps(
            {"from": window["created"].min(), "to": window["created"].max(),
             "events": window.height,
             "types": ",".join(types if types is not None
                               else sorted(set(window["type"].to_list())))}),
        "l_values": "{}",
    }


def find_webhook_gaps(events: pl.DataFrame, processed: pl.DataFrame | None,
                      endpoints: pl.DataFrame, *, min_run: int = 3,
                      grace_seconds: int = 60) -> pl.DataFrame:
    if events.is_empty() or processed is None:
        return pl.DataFrame(schema=DISC_SCHEMA)
    has_enabled, enabled = _enabled(endpoints)
    done = processed.select(pl.col("stripe_id").alias("id")).drop_nulls()
    handled = set(processed["type"].drop_nulls().unique().to_list()) \
        if "type" in processed.columns else set()
    if not handled and not has_enabled:
        return pl.DataFrame(schema=DISC_SCHEMA)
    if "account" in events.columns and not done.is_empty():
        # an endpoint is sent the events of the accounts it serves: those it processed any
        # of (another account's own events, e.g. a separate test account's, are not missed)
        served = events.filter(pl.col("id").is_in(done["id"].implode()))["account"]
        if served.len():
            events = events.filter(pl.col("account").fill_null("").is_in(
                served.fill_null("").unique().implode()))
    relevant = events.select("id", "type", "created")
    if "*" not in enabled:
        relevant = relevant.filter(pl.col("type").is_in(sorted(handled | enabled)))
    if not done.is_empty():
        first = processed["created"].min() if "created" in processed.columns else None
        if first is not None:
            relevant = relevant.filter(pl.col("created") >= first)
    newest = events["created"].max()
    relevant = (relevant.filter(pl.col("created") <= newest - grace_seconds)
                .with_columns(done=pl.col("id").is_in(done["id"].implode()))
                .sort(["created", "id"]))
    if relevant.is_empty():
        return pl.DataFrame(schema=DISC_SCHEMA)
    rows: list[dict[str, object]] = []
    per_type = relevant.group_by("type").agg(pl.col("done").any().alias("any"), pl.len())
    dead = per_type.filter(~pl.col("any") & (pl.col("len") >= 2))
    if dead.height == per_type.height:  # nothing processed at all: one gap
        rows.append(_gap(relevant, "no events processed"))
    else:
        for etype in sorted(dead["type"].to_list()):
            rows.append(_gap(relevant.filter(pl.col("type") == etype),
                             f"no {etype} events processed", [etype]))
        rest = relevant.filter(~pl.col("type").is_in(dead["type"].implode()))
        runs = rest.with_columns(run=(pl.col("done") != pl.col("done").shift()).cum_sum()
                                 .fill_null(0))
        for _, window in runs.filter(~pl.col("done")).group_by("run", maintain_order=True):
            if window.height >= min_run:
                rows.append(_gap(window, "endpoint gap"))
    return pl.DataFrame(rows, schema=DISC_SCHEMA) if rows else pl.DataFrame(schema=DISC_SCHEMA)
