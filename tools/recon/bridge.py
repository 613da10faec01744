"""Bridge statement and verdict.

Per currency: Stripe total (net collected: succeeded payments minus refunds) → one
adjustment per discrepancy class (each discrepancy's effect: its user-side contribution
minus its Stripe-side one) → user total. Totals are computed from the full frames, the
adjustments from the discrepancies alone, so a difference that no discrepancy explains
leaves a non-zero residual — reported as a break, never rounded away.
"""

from __future__ import annotations

import polars as pl

from tools.recon.classify import contribution
from tools.recon.mapping import Mapping
from tools.recon.models import BridgeLine, BridgeStatement, Verdict

__all__ = ["bridge_statements", "decide_verdict"]


def _totals(frames: dict[str, pl.DataFrame], mapping: Mapping, prefix: str) -> pl.DataFrame:
    parts = []
    for name, spec in mapping.entities.items():
        kind = spec.stripe_object
        if kind not in ("payment_intent", "refund") or name not in frames:
            continue
        frame = frames[name]
        if "currency" not in frame.columns or frame.is_empty():
            continue
        renamed = frame.select(pl.all().name.prefix(prefix))
        parts.append(renamed.select(
            pl.col(f"{prefix}currency").alias("currency"),
            pl.lit(kind).alias("kind"),
            contribution(prefix, spec, kind).cast(pl.Int64).alias("amount")))
    if not parts:
        return pl.DataFrame(schema={"currency": pl.String, "kind": pl.String,
                                    "amount": pl.Int64})
    return pl.concat(parts).group_by("currency", "kind").agg(pl.col("amount").sum())


def bridge_statements(stripe: dict[str, pl.DataFrame], local: dict[str, pl.DataFrame],
                      disc: pl.DataFrame, mapping: Mapping) -> list[BridgeStatement]:
    s_tot = _totals(stripe, mapping, "s_")
    l_tot = _totals(local, mapping, "l_")
    legs = pl.concat([
        disc.select(pl.col("s_cur").alias("currency"), "class",
                    (-pl.col("s_contrib")).alias("amount")),
        disc.select(pl.col("l_cur").alias("currency"), "class",
                    pl.col("l_contrib").alias("amount")),
    ]).filter(pl.col("currency").is_not_null() & (pl.col("amount") != 0))
    adj = legs.group_by("currency", "class").agg(pl.col("amount").sum(), pl.len().alias("n"))
    currencies = sorted(set(s_tot["currency"].drop_nulls().to_list())
                        | set(l_tot["currency"].drop_nulls().to_list())
                        | set(adj["currency"].to_list()))

    def pick(frame: pl.DataFrame, cur: str, kind: str) -> int:
        hit = frame.filter((pl.col("currency") == cur) & (pl.col("kind") == kind))["amount"]
        return int(hit.sum()) if hit.len() else 0

    out = []
    for cur in currencies:
        lines = [BridgeLine(label=r["class"], count=r["n"], amount=r["amount"])
                 for r in adj.filter(pl.col("currency") == cur).sort("class").iter_rows(
                     named=True)]
        sg, sr = pick(s_tot, cur, "payment_intent"), pick(s_tot, cur, "refund")
        ug, ur = pick(l_tot, cur, "payment_intent"), pick(l_tot, cur, "refund")
        residual = (ug + ur) - (sg + sr) - sum(line.amount for line in lines)
        out.append(BridgeStatement(
            currency=cur, stripe_gross=sg, stripe_refunds=sr, stripe_total=sg + sr,
            adjustments=lines, user_gross=ug, user_refunds=ur, user_total=ug + ur,
            residual=residual))
    return out


def decide_verdict(*, complete: bool, classes: list[str], needs_review: bool,
                   bridge: list[BridgeStatement]) -> Verdict:
    if not complete:
        return Verdict.INCOMPLETE
    if any(b.residual for b in bridge) or needs_review:
        return Verdict.BREAKS
    breaks = [c for c in classes if c != "APPLIED_BEFORE_FINAL"]
    if breaks:
        return Verdict.BREAKS
    return Verdict.RECONCILED_WITH_PENDING if classes else Verdict.RECONCILED
