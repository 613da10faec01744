"""Bridge statement and verdict.

Per currency: Stripe total (net collected: succeeded payments minus refunds) → one
adjustment per discrepancy class (each discrepancy's effect: its user-side contribution
minus its Stripe-side one) → user total. Totals are computed from the full frames, the
adjustments from the discrepancies alone, so a difference that no discrepancy explains
leaves a non-zero residual — reported as a break, never rounded away.
"""

from __future__ import annotations

import polars as pl

from tools.recon.contrib import bridge_fields, contribution
from tools.recon.mapping import Mapping
from tools.recon.models import BridgeLine, BridgeStatement, Verdict

__all__ = ["bridge_statements", "decide_verdict", "not_computable_reason"]


def not_computable_reason(stripe: dict[str, pl.DataFrame], local: dict[str, pl.DataFrame],
                          mapping: Mapping) -> str | None:
    """Why the mapped data cannot total money collected on both sides, or None.

    The bridge needs a table mirroring PaymentIntents with an amount, a status in Stripe's
    words and a currency on both sides; without one, both totals would read 0 and a
    statement "0 = 0" would claim a balance nobody checked.
    """
    payments = [(n, s) for n, s in mapping.entities.items()
                if s.stripe_object == "payment_intent" and s.key]
    if not payments:
        return ("no mapped table mirrors PaymentIntents, so money collected cannot be "
                "totalled on the user side (map the table recording payments)")
    problems = []
    for name, spec in payments:
        amount, status = bridge_fields(spec)
        missing = [what for what, ok in (
            ("amount field (Stripe amount or amount_received, type money)", amount),
            ("status field compared with Stripe's status", status)) if not ok]
        frames = [f for f in (stripe.get(name), local.get(name)) if f is not None]
        if not missing and any("currency" not in f.columns for f in frames):
            missing.append("currency on both sides (map the currency column)")
        if not missing:
            return None
        problems.append(f"entity {name!r} has no {' and no '.join(missing)}")
    return "; ".join(problems)


def _collected_currencies(objects: dict[str, pl.DataFrame] | None) -> list[str | None]:
    pis = (objects or {}).get("payment_intent")
    if pis is None or "currency" not in pis.columns:
        return [None]
    found = sorted(pis.filter(pl.col("status") == "succeeded")["currency"]
                   .drop_nulls().str.to_lowercase().unique().to_list())
    return found or [None]


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
                      disc: pl.DataFrame, mapping: Mapping, *,
                      objects: dict[str, pl.DataFrame] | None = None) -> list[BridgeStatement]:
    """One statement per currency; a statement that cannot be computed says so and why
    (per currency money was collected in, from the snapshot, or one for all currencies)."""
    why = not_computable_reason(stripe, local, mapping)
    if why is not None:
        return [BridgeStatement.not_computable(cur, why)
                for cur in _collected_currencies(objects)]
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

    totals = {side: {(c, k): int(a) for c, k, a in frame.iter_rows()}
              for side, frame in (("s", s_tot), ("l", l_tot))}

    def pick(side: str, cur: str, kind: str) -> int:
        return totals[side].get((cur, kind), 0)

    out = []
    for cur in currencies:
        lines = [BridgeLine(label=r["class"], count=r["n"], amount=r["amount"])
                 for r in adj.filter(pl.col("currency") == cur).sort("class").iter_rows(
                     named=True)]
        sg, sr = pick("s", cur, "payment_intent"), pick("s", cur, "refund")
        ug, ur = pick("l", cur, "payment_intent"), pick("l", cur, "refund")
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
    if any(b.residual for b in bridge if b.computable) or needs_review:
        return Verdict.BREAKS
    breaks = [c for c in classes if c != "APPLIED_BEFORE_FINAL"]
    if breaks:
        return Verdict.BREAKS
    return Verdict.RECONCILED_WITH_PENDING if classes else Verdict.RECONCILED
