"""Matching beyond the exact Stripe-id join, and the per-object evidence rules need.

- `fallback_match`: user rows without a Stripe id matched to unmatched Stripe rows by
  currency + amount (required), customer and time window (scored). A unique candidate at or
  above the threshold is accepted (the row takes the Stripe id); a weaker or ambiguous one
  becomes a ``needs_review`` discrepancy; many-to-one (one user row = several Stripe rows
  of the same customer and currency summing to its amount) is always a review item.
- `applied_states`: per object, the states of the newest events (newest second) the user
  system processed and every state it processed (STATE_REGRESSION vs STALE_STATE).
- `remote_duplicates`: unmatched Stripe payments/customers that twin a matched one.
"""

from __future__ import annotations

import polars as pl

__all__ = ["applied_states", "fallback_match", "remote_duplicates", "FALLBACK_THRESHOLD"]

FALLBACK_THRESHOLD = 0.9
WINDOW_SECONDS = 86400
DUPLICATE_WINDOW = 600  # seconds between two creates of one intent (FM-07)
CUSTOMER_DUP_WINDOW = 3600


def fallback_match(
    stripe: pl.DataFrame, local: pl.DataFrame, *, amount: str | None, threshold: float =
    FALLBACK_THRESHOLD,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(user rows with accepted Stripe ids filled in, review rows: stripe_id, _review_key,
    _confidence)."""
    empty = pl.DataFrame(schema={"stripe_id": pl.String, "_review_key": pl.String,
                                 "_confidence": pl.Float64})
    if amount is None or "currency" not in local.columns or "stripe_id" not in local.columns:
        return local, empty
    loose = local.filter(pl.col("stripe_id").is_null())
    if loose.is_empty():
        return local, empty
    taken = local["stripe_id"].drop_nulls().implode()
    free = stripe.filter(~pl.col("stripe_id").is_in(taken))
    keys = ["currency", amount]
    s_cols = ["stripe_id", *keys] + [c for c in ("customer", "created") if c in free.columns]
    l_cols = ["local_key", *keys] + [c for c in ("customer", "created") if c in loose.columns]
    pairs = loose.select(l_cols).join(free.select(s_cols), on=keys, how="inner", suffix="_s")
    score = pl.lit(0.5)
    if "customer" in l_cols and "customer" in s_cols:
        score = score + pl.when(pl.col("customer") == pl.col("customer_s")).then(0.3).otherwise(0)
    if "created" in l_cols and "created" in s_cols:
        dt = (pl.col("created") - pl.col("created_s")).abs()
        score = score + pl.when(dt <= WINDOW_SECONDS).then(
            0.2 * (1 - dt / WINDOW_SECONDS)).otherwise(-1.0)
    pairs = pairs.with_columns(_confidence=score.round(4)).filter(pl.col("_confidence") >= 0.5)
    best = pairs.sort("_confidence", descending=True).with_columns(
        _n_l=pl.len().over("local_key"), _n_s=pl.len().over("stripe_id"))
    unique = best.filter((pl.col("_n_l") == 1) & (pl.col("_n_s") == 1))
    accepted = unique.filter(pl.col("_confidence") >= threshold)
    review = best.filter(~pl.col("local_key").is_in(accepted["local_key"].implode())).unique(
        "stripe_id", keep="first", maintain_order=True)
    filled = local.join(accepted.select("local_key", pl.col("stripe_id").alias("_fb")),
                        on="local_key", how="left", maintain_order="left").with_columns(
        stripe_id=pl.coalesce("stripe_id", "_fb")).drop("_fb")
    review = review.select("stripe_id", pl.col("local_key").alias("_review_key"),
                           "_confidence")
    group = _many_to_one(free, loose.filter(
        ~pl.col("local_key").is_in(pairs["local_key"].implode())), amount)
    return filled, pl.concat([review, group]).unique("stripe_id", keep="first")


def _many_to_one(free: pl.DataFrame, loose: pl.DataFrame, amount: str) -> pl.DataFrame:
    if loose.is_empty() or "customer" not in free.columns or "customer" not in loose.columns:
        return pl.DataFrame(schema={"stripe_id": pl.String, "_review_key": pl.String,
                                    "_confidence": pl.Float64})
    sums = free.group_by("customer", "currency").agg(
        pl.col(amount).sum().alias(amount), pl.col("stripe_id").alias("_ids"),
        pl.len().alias("_n")).filter(pl.col("_n") > 1)
    hits = loose.select("local_key", "customer", "currency", amount).join(
        sums, on=["customer", "currency", amount], how="inner")
    return hits.explode("_ids").select(pl.col("_ids").alias("stripe_id"),
                                       pl.col("local_key").alias("_review_key"),
                                       pl.lit(0.8).alias("_confidence"))


def applied_states(events: pl.DataFrame, processed: pl.DataFrame | None,
                   state: str) -> pl.DataFrame | None:
    """object_id → _newest (states in the newest processed second), _statuses (all)."""
    if processed is None or events.is_empty() or state not in events.columns:
        return None
    done = processed
    if "outcome" in processed.columns:
        done = processed.filter(pl.col("outcome").fill_null("applied") == "applied")
    seen = events.filter(pl.col("id").is_in(done["stripe_id"].drop_nulls().implode())
                         & pl.col(state).is_not_null())
    # Events of one second have no order the user system could rely on (Stripe does not
    # guarantee it, ids are random): the "newest" state is every state of the newest second.
    newest = pl.col("created") == pl.col("created").max()
    return seen.group_by("object_id").agg(
        pl.col(state).filter(newest).unique().alias("_newest"),
        pl.col(state).unique().alias("_statuses"))


def remote_duplicates(stripe: pl.DataFrame, local: pl.DataFrame, *, kind: str,
                      objects: dict[str, pl.DataFrame]) -> pl.DataFrame | None:
    """stripe_id → _twin: a Stripe object that repeats an earlier one for the same intent.

    Payments: same account, customer, amount, currency and ``metadata.order_id`` (a create
    retried without an idempotency key), within minutes. Customers: same account, email and
    ``metadata.user_id`` (find-or-create racing a lagging search), within an hour. The
    earliest object is the original; every later one is a duplicate, whether or not the user
    system mirrored it (a mirrored duplicate is still a second charge / second customer).
    """
    if "stripe_id" not in local.columns:
        return None
    if kind == "payment_intent":
        base = objects["payment_intent"].filter(
            pl.col("status").is_in(["succeeded", "processing", "requires_capture"]))
        keys, refs, window = ["customer", "amount", "currency"], ["order_ref"], DUPLICATE_WINDOW
    elif kind == "customer":
        base = objects["customer"].filter(pl.col("email").is_not_null())
        keys, refs, window = ["email"], ["user_ref"], CUSTOMER_DUP_WINDOW
    else:
        return None
    if base.is_empty():
        return None
    base = base.select("id", "account", "created", *keys, *refs).with_columns(
        pl.col("account").fill_null(""))
    first = base.sort(["created", "id"]).select(
        "account", *keys, pl.col("id").alias("_twin"), pl.col("created").alias("_tc"),
        *[pl.col(r).alias(f"_t{r}") for r in refs])
    pairs = base.join(first, on=["account", *keys], how="inner").filter(
        (pl.col("_twin") != pl.col("id"))
        & ((pl.col("_tc") < pl.col("created"))
           | ((pl.col("_tc") == pl.col("created")) & (pl.col("_twin") < pl.col("id"))))
        & ((pl.col("created") - pl.col("_tc")) <= window))
    for r in refs:
        pairs = pairs.filter(pl.col(r).eq_missing(pl.col(f"_t{r}")))
    return (pairs.sort(["_tc", "_twin"]).group_by("id").agg(pl.col("_twin").first())
            .rename({"id": "stripe_id"}))
