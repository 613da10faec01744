"""A currency on both sides of a money entity, whatever the mapping compares.

A company table often stores an amount and its currency column without mapping a field
to Stripe's ``currency`` (``price: {column: price, type: money, currency: ccy}``). Amounts
are still only comparable, and the bridge only computable, per currency: the user side
takes the money field's currency column, the Stripe side the object's own ``currency``
from the snapshot (object_frames), joined by id.
"""

from __future__ import annotations

import polars as pl

from tools.recon.adapter import currency_column
from tools.recon.mapping import EntitySpec

__all__ = ["with_currency"]


def with_currency(spec: EntitySpec, stripe: pl.DataFrame, local: pl.DataFrame,
                  objects: dict[str, pl.DataFrame]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Both frames with a ``currency`` column when it can be known (unchanged otherwise)."""
    if "currency" in stripe.columns and "currency" in local.columns:
        return stripe, local
    money = [f for f in spec.fields.values() if f.type == "money" and f.currency]
    if not money:
        return stripe, local
    column = currency_column(spec, money[0].currency)
    source = objects.get(spec.stripe_object or "")
    if column not in local.columns or source is None or "currency" not in source.columns:
        return stripe, local
    if "currency" not in local.columns:
        local = local.with_columns(pl.col(column).str.to_lowercase().alias("currency"))
    if "currency" not in stripe.columns:
        lookup = source.select(pl.col("id").alias("stripe_id"),
                               pl.col("currency").str.to_lowercase())
        stripe = stripe.join(lookup, on="stripe_id", how="left", maintain_order="left")
    return stripe, local
