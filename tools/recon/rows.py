"""Discrepancy rows (the engine's columnar frame, DISC_SCHEMA) → `Discrepancy` models.

Built only for the rows someone looks at: `DiscrepancyList` (tools/recon/models.py) calls
`build` on the slice it is asked for, so a run with tens of thousands of discrepancies is
decided, counted and stored without a model per row.
"""

from __future__ import annotations

import json

import polars as pl
from pydantic import TypeAdapter

from tools.recon.models import Discrepancy
from tools.recon.repair import propose_fields

__all__ = ["build", "with_ids"]

_DISCREPANCIES = TypeAdapter(list[Discrepancy])


def with_ids(frame: pl.DataFrame, rid: str) -> pl.DataFrame:
    """The frame with each row's stable id (``<run id>:<row number>``) as column ``id``."""
    return frame.with_columns(
        id=pl.lit(f"{rid}:") + pl.int_range(pl.len()).cast(pl.String).str.zfill(6))


def _values(raw: str | None, fields: list[str]) -> dict:
    if not raw or raw == "{}":
        return {}
    try:
        values = json.loads(raw or "{}")
    except ValueError:
        return {}
    return {k: v for k, v in values.items() if k in fields} if fields else values


def build(frame: pl.DataFrame) -> list[Discrepancy]:
    """Rows (with ``id``) → validated models in one pass (one TypeAdapter call)."""
    same = (pl.col("s_cur").is_null() | pl.col("l_cur").is_null()
            | (pl.col("s_cur") == pl.col("l_cur")))
    rows = frame.with_columns(
        money_impact=pl.when(same).then(pl.col("l_contrib") - pl.col("s_contrib")),
    ).to_dicts()
    raw = []
    for row in rows:
        fields = row["fields"] or []
        legs = [{"currency": c, "amount": a} for c, a in
                ((row["s_cur"], -(row["s_contrib"] or 0)), (row["l_cur"], row["l_contrib"] or 0))
                if c and a]
        raw.append({
            "id": row["id"], "class": row["class"], "entity": row["entity"],
            "stripe_id": row["stripe_id"], "local_key": row["local_key"], "fields": fields,
            "stripe_values": _values(row["s_values"], fields),
            "local_values": _values(row["l_values"], fields),
            "amount_minor": row["amount_minor"], "currency": row["currency"],
            "money_impact": row["money_impact"] if legs or row["money_impact"] else 0,
            "bridge_legs": legs,
            "evidence": {"stripe": row["ev_stripe"] or [], "local": row["ev_local"] or []},
            "reason": row["reason"] or "", "needs_review": bool(row["needs_review"]),
            "confidence": row["confidence"],
            "proposed_repair": propose_fields(
                cls=row["class"], entity=row["entity"], stripe_id=row["stripe_id"],
                local_key=row["local_key"], fields=fields, needs_review=row["needs_review"],
                confidence=row["confidence"], events=len(row["ev_stripe"] or []),
                fallback=row["id"]),
        })
    return _DISCREPANCIES.validate_python(raw)
