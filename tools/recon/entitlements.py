"""Value granted locally (entitlements) against the money behind it in Stripe.

Each active entitlement names its source (subscription, checkout session or payment
intent; version 2 mappings find it through `granted_by` joins, tools/recon/grants.py). The
source's Stripe state decides: not final (processing, waiting for the customer's action,
authorised but not captured) → APPLIED_BEFORE_FINAL (pending); failed after an attempt
(unless the events show it never processed: a declined card moved no money), fully
refunded or disputed → REVERSED_AFTER_APPLICATION; never paid, declined, unknown to
Stripe, or living in a connected account → ORPHAN_APPLICATION; a subscription that should
have lost access → STALE_STATE; a second active row for the same source and feature →
DUPLICATE_LOCAL_EFFECT.
"""

from __future__ import annotations

import polars as pl

from tools.recon.rules import (
    DISC_SCHEMA,
    DISPUTE_REVERSES,
    PI_PENDING,
    SUB_NO_VALUE,
    SUB_SHOULD_REVOKE,
)

__all__ = ["classify_entitlements"]

# Not final yet, money may still move: in flight (processing), waiting for the customer to
# act (3-D Secure, a cash voucher: requires_action) or authorised and held (requires_capture).
NOT_FINAL = (*PI_PENDING, "requires_action", "requires_capture")


def _payments(objects: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Per payment intent: status, amount, currency, account, refunded in full, disputed."""
    pi = objects["payment_intent"].select(
        pl.col("id").alias("pi"), pl.col("status").alias("pi_status"), "amount_received",
        "amount", "currency", pl.col("account").alias("pi_account"), "failed")
    refunds = (objects["refund"].filter(pl.col("status").is_in(["succeeded", "pending"]))
               .group_by("payment_intent").agg(pl.col("amount").sum().alias("refunded"),
                                               pl.col("id").alias("refund_ids")))
    disputes = (objects["dispute"].filter(pl.col("status").is_in(list(DISPUTE_REVERSES)))
                .group_by("payment_intent").agg(pl.col("id").alias("dispute_ids")))
    # which intents the event history shows at all, and which it shows in flight: a payment
    # that failed without ever processing (a declined card) never moved money
    events = objects["event"].filter(pl.col("object_type") == "payment_intent")
    seen = events.group_by(pl.col("object_id").alias("pi")).agg(
        (pl.col("status").is_in(list(PI_PENDING))
         | pl.col("type").str.ends_with(".processing")).any().alias("_was_pending"))
    return (pi.join(refunds.rename({"payment_intent": "pi"}), on="pi", how="left")
            .join(disputes.rename({"payment_intent": "pi"}), on="pi", how="left")
            .join(seen, on="pi", how="left"))


def classify_entitlements(ent: pl.DataFrame, objects: dict[str, pl.DataFrame]) -> pl.DataFrame:
    if ent.is_empty() or "source_id" not in ent.columns:
        return pl.DataFrame(schema=DISC_SCHEMA)
    active = ent.filter(pl.col("active").fill_null(False))
    sessions = objects["checkout.session"].select(
        pl.col("id").alias("source_id"), pl.col("payment_intent").alias("cs_pi"),
        pl.col("payment_status").alias("cs_status"), pl.col("account").alias("cs_account"))
    subs = objects["subscription"].select(
        pl.col("id").alias("source_id"), pl.col("status").alias("sub_status"),
        pl.col("account").alias("sub_account"))
    rows = (active.join(sessions, on="source_id", how="left")
            .join(subs, on="source_id", how="left")
            .with_columns(pi=pl.when(pl.col("source_id").str.starts_with("pi_"))
                          .then(pl.col("source_id")).otherwise(pl.col("cs_pi")))
            .join(_payments(objects), on="pi", how="left"))
    dup_rank = pl.int_range(pl.len()).over(["source_id", "feature"],
                                           order_by="local_key")
    rows = rows.with_columns(_dup=(dup_rank > 0) & pl.col("source_id").is_not_null())
    is_sub = pl.col("source_type") == "subscription"
    found = pl.when(is_sub).then(pl.col("sub_status").is_not_null()).when(
        pl.col("source_id").str.starts_with("cs_")).then(pl.col("cs_status").is_not_null()
                                                         ).otherwise(pl.col("pi_status")
                                                                     .is_not_null())
    account = pl.coalesce("sub_account", "cs_account", "pi_account")
    refunded_all = (pl.col("refunded").fill_null(0) >= pl.col("amount_received")) & (
        pl.col("amount_received") > 0)
    cls = (
        pl.when(pl.col("_dup")).then(pl.lit("DUPLICATE_LOCAL_EFFECT"))
        .when(~found).then(pl.lit("ORPHAN_APPLICATION"))
        .when(account.is_not_null()).then(pl.lit("ORPHAN_APPLICATION"))
        .when(is_sub & pl.col("sub_status").is_in(list(SUB_NO_VALUE)))
        .then(pl.lit("ORPHAN_APPLICATION"))
        .when(is_sub & pl.col("sub_status").is_in(list(SUB_SHOULD_REVOKE)))
        .then(pl.lit("STALE_STATE"))
        .when(is_sub).then(pl.lit(None))
        .when(pl.col("pi_status").is_in(list(NOT_FINAL))).then(pl.lit("APPLIED_BEFORE_FINAL"))
        .when(pl.col("pi_status") == "succeeded").then(
            pl.when(refunded_all | pl.col("dispute_ids").is_not_null())
            .then(pl.lit("REVERSED_AFTER_APPLICATION")))
        # a completed Checkout Session with a failed payment had an async payment in flight
        .when(pl.col("failed").is_not_null() & (pl.col("_was_pending").fill_null(True)
                                                | pl.col("cs_status").is_not_null()))
        .then(pl.lit("REVERSED_AFTER_APPLICATION"))
        .when(pl.col("pi").is_null() & (pl.col("cs_status") == "paid")).then(pl.lit(None))
        .when(pl.col("cs_status").is_in(["paid", "no_payment_required"]) & pl.col("pi").is_null())
        .then(pl.lit(None))
        .otherwise(pl.lit("ORPHAN_APPLICATION"))
    )
    reason = (
        pl.when(pl.col("_dup")).then(pl.lit("a second active entitlement for one source"))
        .when(~found).then(pl.lit("the source does not exist in Stripe"))
        .when(account.is_not_null()).then(pl.lit("source lives in connected account ")
                                          + account)
        .otherwise(pl.lit("access active while the source is ")
                   + pl.coalesce("sub_status", "pi_status", "cs_status", pl.lit("unknown")))
    )
    out = rows.with_columns(cls.alias("class"), reason.alias("reason")).filter(
        pl.col("class").is_not_null())
    twin = pl.col("local_key").first().over(["source_id", "feature"], order_by="local_key")
    out = out.with_columns(_first=twin)
    return out.select(
        "class", pl.lit("entitlement").alias("entity"),
        pl.col("source_id").alias("stripe_id"), "local_key",
        pl.lit(["active"]).alias("fields"),
        pl.coalesce("amount_received", "amount").alias("amount_minor"),
        pl.col("currency"),
        pl.lit(0).alias("s_contrib"), pl.lit(None, pl.String).alias("s_cur"),
        pl.lit(0).alias("l_contrib"), pl.lit(None, pl.String).alias("l_cur"),
        pl.concat_list([pl.col("source_id"), pl.col("pi")]).list.unique(maintain_order=True)
        .list.concat(pl.col("refund_ids").fill_null([]))
        .list.concat(pl.col("dispute_ids").fill_null([])).list.drop_nulls().alias("ev_stripe"),
        pl.when(pl.col("_dup")).then(pl.concat_list(["local_key", "_first"]))
        .otherwise(pl.concat_list(["local_key"])).alias("ev_local"),
        "reason", pl.lit(False).alias("needs_review"),
        pl.lit(None, pl.Float64).alias("confidence"),
        pl.lit("{}").alias("s_values"),
        pl.struct(["source_type", "source_id", "feature", "active"]).struct.json_encode()
        .alias("l_values"),
    ).cast(DISC_SCHEMA)  # type: ignore[arg-type]
