"""DUPLICATE_LOCAL_EFFECT on mirrored tables: a second local row for one Stripe object.

A retried webhook that inserts twice leaves two rows with one Stripe id; joined as is, both
match Stripe and the repeat is never seen. The earliest row by row address (serial keys in
number order: "t:9" before "t:10") is the mirror and is compared as usual; each later one is
a duplicate effect, counted once more on the user side of the bridge.

Found on the joined frame without a pass over every id: Stripe ids are unique, so rows
carrying a Stripe id outnumber the Stripe rows only when some id matched several local rows
(a null count, free); only then are the repeated ids looked for. Repeats of an id Stripe
does not know are among the few local-only rows, looked for there.
"""

from __future__ import annotations

import polars as pl

from tools.recon.contrib import contribution, values_json
from tools.recon.mapping import EntitySpec
from tools.recon.rules import DISC_SCHEMA

__all__ = ["duplicate_rows", "split_matched_duplicates", "split_orphan_duplicates"]


def _repeats(candidates: pl.DataFrame, key: str) -> pl.DataFrame:
    """Rows after the first (by local row address) of each `key`, with ``l__first``."""
    return (candidates.unique(["l_local_key"], keep="first")
            .sort(pl.col("l_local_key").str.len_chars(), "l_local_key")
            .with_columns(_rank=pl.int_range(pl.len()).over(key),
                          l__first=pl.col("l_local_key").first().over(key))
            .filter(pl.col("_rank") > 0).drop("_rank"))


def _without(frame: pl.DataFrame, extra: pl.DataFrame) -> pl.DataFrame:
    if not extra.height:
        return frame
    # rows without a local side (Stripe-only) are never a repeat: keep them (is_in → null)
    return frame.filter(~pl.col("l_local_key").is_in(extra["l_local_key"].implode())
                        .fill_null(False))


def split_matched_duplicates(joined: pl.DataFrame,
                             stripe_rows: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(joined frame with one local row per Stripe id, the repeated local rows)."""
    with_id = joined.height - joined["s_stripe_id"].null_count()
    if with_id <= stripe_rows:
        return joined, joined.clear()
    # a repeated 64-bit hash first (cheaper than comparing strings over every row), then the
    # ids themselves among those few rows (a hash collision is not a repeat)
    candidates = joined.filter(pl.col("s_stripe_id").is_not_null()
                               & pl.col("l_local_key").is_not_null()
                               & pl.col("s_stripe_id").hash().is_duplicated())
    candidates = candidates.filter(pl.col("s_stripe_id").is_duplicated())
    extra = _repeats(candidates, "s_stripe_id")
    return _without(joined, extra), extra


def split_orphan_duplicates(rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The same for local rows whose id Stripe does not know (``rows`` is already small)."""
    orphans = rows.filter(pl.col("s_stripe_id").is_null() & pl.col("l_local_key").is_not_null()
                          & pl.col("l_stripe_id").is_not_null())
    if orphans.height < 2 or not orphans["l_stripe_id"].is_duplicated().any():
        return rows, rows.clear()
    extra = _repeats(orphans.filter(pl.col("l_stripe_id").is_duplicated()), "l_stripe_id")
    return _without(rows, extra), extra


def duplicate_rows(name: str, spec: EntitySpec, extra: pl.DataFrame, money: list[str],
                   cur: str | None) -> pl.DataFrame:
    """DUPLICATE_LOCAL_EFFECT rows for the repeated local rows (``l_*`` columns)."""
    if not extra.height:
        return pl.DataFrame(schema=DISC_SCHEMA)
    primary = next((m for m in ("amount", "total", "amount_received", "net_amount")
                    if m in money and f"l_{m}" in extra.columns), None)
    l_cur = pl.col("l_currency") if cur and "l_currency" in extra.columns \
        else pl.lit(None, pl.String)
    shown = [f for f, s in spec.fields.items() if s.compared and f"l_{f}" in extra.columns]
    stripe_id = pl.coalesce("s_stripe_id", "l_stripe_id") if "s_stripe_id" in extra.columns \
        else pl.col("l_stripe_id")
    return extra.select(
        pl.lit("DUPLICATE_LOCAL_EFFECT").alias("class"), pl.lit(name).alias("entity"),
        stripe_id.alias("stripe_id"), pl.col("l_local_key").alias("local_key"),
        pl.lit([], pl.List(pl.String)).alias("fields"),
        (pl.col(f"l_{primary}") if primary else pl.lit(None, pl.Int64)).alias("amount_minor"),
        l_cur.alias("currency"), pl.lit(0, pl.Int64).alias("s_contrib"),
        pl.lit(None, pl.String).alias("s_cur"),
        contribution("l_", spec, spec.stripe_object).cast(pl.Int64).alias("l_contrib"),
        l_cur.alias("l_cur"),
        pl.concat_list([stripe_id]).alias("ev_stripe"),
        pl.concat_list([pl.col("l_local_key"), pl.col("l__first")]).alias("ev_local"),
        (pl.lit("a second local row for one Stripe object (the first is ")
         + pl.col("l__first") + pl.lit(")")).alias("reason"),
        pl.lit(False).alias("needs_review"), pl.lit(None, pl.Float64).alias("confidence"),
        pl.lit("{}").alias("s_values"), values_json("l_", shown).alias("l_values"),
    ).cast(DISC_SCHEMA)  # type: ignore[arg-type]
