"""Putting a version 2 entity's local values into Stripe's terms, row by row, before the
classifier compares them.

- `values`: a local word stands for one or several Stripe words (`lapsed: [canceled,
  unpaid]`), and several local words may stand for one Stripe word (`paid`, `refunded` →
  `succeeded`). The local value becomes the Stripe word it allows that the object holds,
  else the first it allows (so the difference shows a Stripe word); a word the mapping does
  not list stays as written and differs.
- `when` without `otherwise`: where the condition is false the field is not compared.
- `tolerance`: numbers (timestamps, amounts) within it agree.
- `stripe_where`: an object outside it is dropped unless the table holds it (then it is
  compared like any other: a row pointing at an object exists, it is no orphan).
"""

from __future__ import annotations

import polars as pl

from tools.recon.mapping import EntitySpec

__all__ = ["align"]


def align(spec: EntitySpec, stripe: pl.DataFrame,
          local: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    if "_expected" in stripe.columns:  # outside stripe_where and not held locally: not ours
        held = local["stripe_id"].drop_nulls().implode() if "stripe_id" in local.columns \
            else pl.Series([], dtype=pl.String).implode()
        stripe = stripe.filter(pl.col("_expected") | pl.col("stripe_id").is_in(held)
                               ).drop("_expected")
    skips = [c for c in stripe.columns if c.startswith("_skip_")]
    fields = [f for f, s in spec.fields.items() if f in stripe.columns and f in local.columns
              and (s.values or s.tolerance or f"_skip_{f}" in skips)]
    if not fields or "stripe_id" not in local.columns:
        return stripe.drop(skips), local
    theirs = stripe.select("stripe_id", *[pl.col(f).alias(f"__s_{f}") for f in fields],
                           *[pl.col(f"_skip_{f}").alias(f"__k_{f}") for f in fields
                             if f"_skip_{f}" in skips])
    joined = local.join(theirs, on="stripe_id", how="left", maintain_order="left")
    updates = []
    for f in fields:
        s = spec.fields[f]
        theirs_f, mine = pl.col(f"__s_{f}"), pl.col(f)
        value = mine
        if s.values:
            allowed = {k: [v] if isinstance(v, str) else list(v) for k, v in s.values.items()}
            words = pl.DataFrame({"w": list(allowed), "a": list(allowed.values())},
                                 schema={"w": pl.String, "a": pl.List(pl.String)})
            joined = joined.join(words.rename({"w": f, "a": f"__a_{f}"}), on=f, how="left",
                                 maintain_order="left")
            ok = pl.col(f"__a_{f}").list.contains(theirs_f).fill_null(False)
            value = (pl.when(ok).then(theirs_f)
                     .when(pl.col(f"__a_{f}").list.len() > 0)
                     .then(pl.col(f"__a_{f}").list.first()).otherwise(mine))
        if s.tolerance:
            value = pl.when((mine - theirs_f).abs() <= s.tolerance).then(theirs_f
                                                                        ).otherwise(value)
        if f"__k_{f}" in joined.columns:
            value = pl.when(pl.col(f"__k_{f}").fill_null(False)).then(theirs_f
                                                                     ).otherwise(value)
        updates.append(value.cast(local.schema[f]).alias(f))
    joined = joined.with_columns(updates)
    return stripe.drop(skips), joined.select(local.columns)
