"""Applied payments: local rows that apply money to a Stripe object (``role: applied_payments``).

A company often records "money applied to a bill" in its own table, with no Stripe id of
its own: each row names the object it applies to (through a ref field, so its value is the
target's Stripe id) and an amount. Checked against what the target received in Stripe, in
the order the rows were written (serial row address):

- the target does not exist in Stripe, or received nothing → ORPHAN_APPLICATION;
- money applied beyond what is left once Stripe reversed part of it (refunds, disputes,
  post-payment credit notes) → REVERSED_AFTER_APPLICATION;
- a row applied after earlier rows already covered everything received →
  DUPLICATE_LOCAL_EFFECT (a retried handler applying one payment twice);
- a target that received money with nothing applied → UNAPPLIED_PAYMENT, reported on the
  target's own row by the classifier (`unapplied_ids`), where its state is compared too.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from tools.recon.mapping import EntitySpec, Mapping
from tools.recon.rules import DISC_SCHEMA, DISPUTE_REVERSES

__all__ = ["AppliedSpec", "AppliedResult", "applied_specs", "classify_all_applied",
           "classify_applied", "target_facts"]

RECEIVED = {"invoice": "amount_paid", "payment_intent": "amount_received"}
"""Per Stripe object: the field holding the money it actually received."""


@dataclass(frozen=True)
class AppliedSpec:
    entity: str  # the applied-payments entity
    target: str  # the entity its rows apply money to
    stripe_object: str  # what the target mirrors
    ref: str  # the ref field holding the target's Stripe id
    amount: str | None  # the money field applied


@dataclass
class AppliedResult:
    discrepancies: pl.DataFrame  # DISC_SCHEMA
    unapplied_ids: dict[str, pl.Series]  # target entity → Stripe ids received, none applied


def applied_specs(mapping: Mapping) -> list[AppliedSpec]:
    """Every `role: applied_payments` entity whose target mirrors a Stripe object."""
    out = []
    for name, spec in mapping.entities.items():
        if getattr(spec, "kind", None) != "applied_payments":
            continue
        found = _ref_field(spec, getattr(spec, "applies_to", None) or "")
        if found is None:
            continue
        ref, target = found
        target_spec = mapping.entities.get(target)
        if target_spec is None or not target_spec.stripe_object:
            continue
        amount = next((n for n, f in spec.fields.items() if f.type == "money"), None)
        out.append(AppliedSpec(name, target, target_spec.stripe_object, ref, amount))
    return out


def _ref_field(spec: EntitySpec, applies_to: str) -> tuple[str, str] | None:
    field = spec.fields.get(applies_to)
    if field is not None and field.type == "ref" and field.entity:
        return applies_to, field.entity
    for name, f in spec.fields.items():
        if f.type == "ref" and f.entity == applies_to:
            return name, applies_to
    return None


def _sum_by(frame: pl.DataFrame, key: str, amount: str, where: pl.Expr) -> pl.DataFrame:
    return (frame.filter(where & pl.col(key).is_not_null())
            .group_by(key).agg(pl.col(amount).fill_null(0).sum().alias("_rev")))


def target_facts(stripe_object: str, objects: dict[str, pl.DataFrame]) -> pl.DataFrame | None:
    """stripe_id, _received, _reversed for every object of the type (None: unknown type)."""
    source = objects.get(stripe_object)
    received = RECEIVED.get(stripe_object)
    if source is None or received is None or received not in source.columns:
        return None
    facts = source.select(pl.col("id").alias("stripe_id"),
                          pl.col(received).fill_null(0).alias("_received"))
    if stripe_object == "invoice" and "post_payment_credit_notes_amount" in source.columns:
        rev = source.select(pl.col("id").alias("stripe_id"),
                            pl.col("post_payment_credit_notes_amount").fill_null(0)
                            .alias("_rev"))
    elif stripe_object == "payment_intent":
        refunds = _sum_by(objects["refund"], "payment_intent", "amount",
                          pl.col("status").is_in(["succeeded", "pending"]))
        disputes = _sum_by(objects["dispute"], "payment_intent", "amount",
                           pl.col("status").is_in(list(DISPUTE_REVERSES)))
        rev = (pl.concat([refunds, disputes]).group_by("payment_intent")
               .agg(pl.col("_rev").sum()).rename({"payment_intent": "stripe_id"}))
    else:
        rev = pl.DataFrame(schema={"stripe_id": pl.String, "_rev": pl.Int64})
    return (facts.join(rev, on="stripe_id", how="left")
            .with_columns(_reversed=pl.col("_rev").fill_null(0)).drop("_rev"))


def classify_applied(spec: AppliedSpec, rows: pl.DataFrame,
                     objects: dict[str, pl.DataFrame]) -> tuple[pl.DataFrame, pl.Series | None]:
    """(discrepancy rows, target Stripe ids that received money with nothing applied)."""
    facts = target_facts(spec.stripe_object, objects)
    if facts is None or spec.amount is None or spec.ref not in rows.columns:
        return pl.DataFrame(schema=DISC_SCHEMA), None
    applied = (rows.filter(pl.col(spec.ref).is_not_null())
               .select("local_key", pl.col(spec.ref).alias("stripe_id"),
                       pl.col(spec.amount).fill_null(0).alias("_amount"))
               .sort(pl.col("local_key").str.len_chars(), "local_key")
               .with_columns(_after=pl.col("_amount").cum_sum().over("stripe_id"),
                             _first=pl.col("local_key").first().over("stripe_id")))
    applied = applied.with_columns(_before=pl.col("_after") - pl.col("_amount"))
    unapplied = facts.filter((pl.col("_received") > 0)
                             & ~pl.col("stripe_id").is_in(applied["stripe_id"].implode()))
    rows_out = applied.join(facts, on="stripe_id", how="left").with_columns(
        _exists=pl.col("_received").is_not_null(),
        _kept=pl.col("_received").fill_null(0) - pl.col("_reversed").fill_null(0))
    money = pl.col("_amount") > 0
    orphan = money & (~pl.col("_exists") | (pl.col("_received") == 0))
    reversed_ = (money & (pl.col("_reversed") > 0) & (pl.col("_after") > pl.col("_kept"))
                 & (pl.col("_before") < pl.col("_received")))
    duplicate = money & (pl.col("_before") >= pl.col("_received"))
    cls = (pl.when(orphan).then(pl.lit("ORPHAN_APPLICATION"))
           .when(reversed_).then(pl.lit("REVERSED_AFTER_APPLICATION"))
           .when(duplicate).then(pl.lit("DUPLICATE_LOCAL_EFFECT")))
    amount = pl.col("_amount").cast(pl.String)
    reason = (
        pl.when(~pl.col("_exists")).then(pl.lit(f"money applied to a {spec.stripe_object} "
                                                "that does not exist in Stripe"))
        .when(orphan).then(pl.lit(f"money applied to a {spec.stripe_object} that received "
                                  "none in Stripe"))
        .when(reversed_).then(amount + pl.lit(" applied; Stripe reversed ")
                              + pl.col("_reversed").cast(pl.String)
                              + pl.lit(" of the ") + pl.col("_received").cast(pl.String)
                              + pl.lit(" received after it was applied"))
        .otherwise(amount + pl.lit(" applied again: earlier rows (the first is ")
                   + pl.col("_first") + pl.lit(") already cover the ")
                   + pl.col("_received").cast(pl.String) + pl.lit(" received")))
    out = rows_out.with_columns(cls.alias("class"), reason.alias("reason")).filter(
        pl.col("class").is_not_null())
    disc = out.select(
        "class", pl.lit(spec.entity).alias("entity"), "stripe_id", "local_key",
        pl.lit([spec.amount]).alias("fields"), pl.col("_amount").alias("amount_minor"),
        pl.lit(None, pl.String).alias("currency"), pl.lit(0).alias("s_contrib"),
        pl.lit(None, pl.String).alias("s_cur"), pl.lit(0).alias("l_contrib"),
        pl.lit(None, pl.String).alias("l_cur"),
        pl.concat_list([pl.col("stripe_id")]).alias("ev_stripe"),
        pl.when(pl.col("_first") != pl.col("local_key"))
        .then(pl.concat_list(["local_key", "_first"]))
        .otherwise(pl.concat_list(["local_key"])).alias("ev_local"),
        "reason", pl.lit(False).alias("needs_review"),
        pl.lit(None, pl.Float64).alias("confidence"),
        pl.struct(pl.col("_received").alias("received"),
                  pl.col("_reversed").alias("reversed")).struct.json_encode()
        .alias("s_values"),
        pl.struct(pl.col("_amount").alias(spec.amount),
                  pl.col("_before").alias("applied_before")).struct.json_encode()
        .alias("l_values"),
    ).cast(DISC_SCHEMA)  # type: ignore[arg-type]
    return disc, unapplied["stripe_id"]


def classify_all_applied(mapping: Mapping, local: dict[str, pl.DataFrame],
                         objects: dict[str, pl.DataFrame]) -> AppliedResult:
    parts, unapplied = [], {}
    for spec in applied_specs(mapping):
        if spec.entity not in local:
            continue
        disc, ids = classify_applied(spec, local[spec.entity], objects)
        parts.append(disc)
        if ids is not None:
            unapplied[spec.target] = ids
    return AppliedResult(pl.concat(parts) if parts else pl.DataFrame(schema=DISC_SCHEMA),
                         unapplied)
