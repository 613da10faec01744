"""Classification of mirrored entities: Stripe rows vs user rows, joined on the Stripe id.

Vectorised in three steps so the cost stays close to a plain join: (1) one full join per
entity, (2) cheap per-field inequality flags that keep only rows that differ at all, (3) the
class rules, evaluated on those few rows only. One discrepancy per row; its class is the
first rule that fires, its ``fields`` every field that differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from tools.recon.contrib import bridge_fields, contribution, field_for, received_field, values_json
from tools.recon.duplicates import (
    duplicate_rows,
    split_matched_duplicates,
    split_orphan_duplicates,
)
from tools.recon.env import env_signal
from tools.recon.mapping import EntitySpec
from tools.recon.rules import (
    DISC_SCHEMA,
    REFUND_REVERSED,
    SUCCESS_STATES,
    amount_subclass,
    known_currency,
)

__all__ = ["EntityContext", "bridge_fields", "classify_entity", "contribution", "field_for",
           "received_field"]

CASH_BALANCE_TXN = "customer_cash_balance_transaction"


@dataclass
class EntityContext:
    """What the rules need besides the two frames."""

    expected_livemode: bool | None
    check_orphans: bool = True  # false when the Stripe side was synced partially
    applied_states: pl.DataFrame | None = None  # object_id, _newest, _statuses (from events)
    remote_duplicates: pl.DataFrame | None = None  # stripe_id, twin (matched twin's id)
    review: pl.DataFrame | None = None  # stripe_id, local_key, confidence (fallback candidates)
    # Where the user system applies money received for these objects, when the mapping
    # says it is somewhere else than this row's state: Stripe ids that received money with
    # nothing applied locally (from the applied-payments rows), and whether an entitlement
    # table is what the money buys (its own pass decides UNAPPLIED_PAYMENT then).
    unapplied_ids: pl.Series | None = None
    applied_elsewhere: bool = False
    extra: dict[str, object] = field(default_factory=dict)


def _state_field(spec: EntitySpec) -> str | None:
    for name in ("status", "payment_status"):
        if name in spec.fields and spec.fields[name].compared:
            return name
    return None


def classify_entity(
    name: str, spec: EntitySpec, stripe: pl.DataFrame, local: pl.DataFrame, ctx: EntityContext
) -> tuple[pl.DataFrame, int]:
    """Discrepancy rows (DISC_SCHEMA) for one entity, and how many rows were compared."""
    compared = [f for f, s in spec.fields.items() if s.compared and f in stripe.columns]
    money = [f for f in compared if spec.fields[f].type == "money"]
    state = _state_field(spec)
    cur = "currency" if "currency" in stripe.columns and "currency" in local.columns else None
    s = stripe.select(pl.all().name.prefix("s_"))
    lo = local.select(pl.all().name.prefix("l_"))
    j = s.join(lo, left_on="s_stripe_id", right_on="l_stripe_id", how="full", coalesce=False)
    compared_rows = j.height
    j, extra = split_matched_duplicates(j, stripe.height)
    in_s, in_l = pl.col("s_stripe_id").is_not_null(), pl.col("l_local_key").is_not_null()
    s_deleted = pl.col("s_deleted").fill_null(False) if "s_deleted" in s.columns else pl.lit(False)
    diffs = {f: pl.col(f"s_{f}").ne_missing(pl.col(f"l_{f}")) for f in compared}
    content = pl.any_horizontal(list(diffs.values())) if diffs else pl.lit(False)
    if "deleted" in diffs:
        content = pl.when(s_deleted).then(diffs["deleted"]).otherwise(content)
    live = (pl.col("l_livemode").is_not_null() & pl.col("s_livemode").is_not_null()
            & (pl.col("l_livemode") != pl.col("s_livemode"))) if "l_livemode" in lo.columns \
        else pl.lit(False)
    acct = (pl.col("s_account").ne_missing(pl.col("l_account"))) if "l_account" in lo.columns \
        else pl.lit(False)
    l_deleted = pl.col("l_deleted").fill_null(False) if "l_deleted" in lo.columns else pl.lit(False)
    stripe_only = in_s & ~in_l & ~s_deleted
    local_only = in_l & ~in_s & ~l_deleted
    dup = (pl.col("s_stripe_id").is_in(ctx.remote_duplicates["stripe_id"].implode())
           if ctx.remote_duplicates is not None else pl.lit(False))
    unapplied = (pl.col("s_stripe_id").is_in(ctx.unapplied_ids.implode())
                 if ctx.unapplied_ids is not None and ctx.unapplied_ids.len()
                 else pl.lit(False))
    env = env_signal(j, has_livemode="l_livemode" in lo.columns,
                     has_account="l_account" in lo.columns,
                     expected_livemode=ctx.expected_livemode)
    rows = j.filter((stripe_only & ~env.elsewhere) | local_only
                    | (in_s & in_l & (content | live | acct | dup | unapplied | env.matched)))
    rows, extra_orphans = split_orphan_duplicates(rows)
    dups = duplicate_rows(name, spec, pl.concat([extra, extra_orphans], how="diagonal_relaxed"),
                          money, cur)
    rows = rows.with_columns(
        _in_s=in_s, _in_l=in_l, _live=live, _acct=acct, _unapplied=in_s & in_l & unapplied,
        _env=env.flag, _env_conf=env.confidence, _env_why=env.reason,
        _fields=pl.when(in_s & in_l).then(
            pl.concat_list([pl.when(d).then(pl.lit(f)) for f, d in diffs.items()]
                           ).list.drop_nulls()).otherwise(pl.lit([], pl.List(pl.String)))
        if diffs else pl.lit([], pl.List(pl.String)),
    )
    if not rows.height:
        return dups, compared_rows
    rows = _attach(rows, ctx, state)
    cls, reason = _class_expr(name, spec, ctx, money, state, cur)
    s_cur = pl.col("s_currency") if cur else pl.lit(None, pl.String)
    l_cur = pl.col("l_currency") if cur else pl.lit(None, pl.String)
    primary = next((m for m in ("amount", "total", "amount_received", "net_amount")
                    if m in money), money[0] if money else None)
    out = rows.with_columns(cls.alias("class"), reason.alias("reason")).filter(
        pl.col("class").is_not_null())
    out = out.select(
        pl.col("class"),
        pl.lit(name).alias("entity"),
        pl.coalesce("s_stripe_id", "l_stripe_id").alias("stripe_id"),
        pl.col("l_local_key").alias("local_key"),
        pl.col("_fields").alias("fields"),
        (pl.coalesce(f"s_{primary}", f"l_{primary}") if primary
         else pl.lit(None, pl.Int64)).alias("amount_minor"),
        pl.coalesce(s_cur, l_cur).alias("currency"),
        pl.when(pl.col("_in_s")).then(contribution("s_", spec, spec.stripe_object))
        .otherwise(0).cast(pl.Int64).alias("s_contrib"),
        s_cur.alias("s_cur"),
        pl.when(pl.col("_in_l")).then(contribution("l_", spec, spec.stripe_object))
        .otherwise(0).cast(pl.Int64).alias("l_contrib"),
        l_cur.alias("l_cur"),
        pl.concat_list([pl.col("s_stripe_id"), pl.col("_twin")]).list.drop_nulls()
        .alias("ev_stripe"),
        pl.concat_list([pl.col("l_local_key"), pl.col("_review_key")]).list.drop_nulls()
        .alias("ev_local"),
        pl.col("reason"),
        pl.col("_review_key").is_not_null().alias("needs_review"),
        pl.when(pl.col("class") == "ENV_MISMATCH").then(pl.col("_env_conf"))
        .otherwise(pl.col("_confidence")).alias("confidence"),
        values_json("s_", [f for f in compared if f"s_{f}" in rows.columns]).alias("s_values"),
        values_json("l_", [f for f in compared if f"l_{f}" in rows.columns]).alias("l_values"),
    ).cast(DISC_SCHEMA)  # type: ignore[arg-type]
    return (pl.concat([out, dups]) if dups.height else out), compared_rows


def _attach(rows: pl.DataFrame, ctx: EntityContext, state: str | None) -> pl.DataFrame:
    """Evidence the rules need, joined onto the (few) differing rows."""
    if ctx.applied_states is not None and state:
        rows = rows.join(ctx.applied_states.rename({"object_id": "s_stripe_id"}),
                         on="s_stripe_id", how="left")
    else:
        rows = rows.with_columns(_newest=pl.lit(None, pl.List(pl.String)),
                                 _statuses=pl.lit(None, pl.List(pl.String)))
    if ctx.remote_duplicates is not None:
        rows = rows.join(ctx.remote_duplicates.rename({"stripe_id": "s_stripe_id"}),
                         on="s_stripe_id", how="left")
    else:
        rows = rows.with_columns(_twin=pl.lit(None, pl.String))
    if ctx.review is not None:
        rows = rows.join(ctx.review.rename({"stripe_id": "s_stripe_id"}), on="s_stripe_id",
                         how="left")
    else:
        rows = rows.with_columns(_review_key=pl.lit(None, pl.String),
                                 _confidence=pl.lit(None, pl.Float64))
    return rows


def _class_expr(name: str, spec: EntitySpec, ctx: EntityContext, money: list[str],
                state: str | None, cur: str | None) -> tuple[pl.Expr, pl.Expr]:
    in_s, in_l = pl.col("_in_s"), pl.col("_in_l")
    matched = in_s & in_l
    has = pl.col("_fields").list.len() > 0
    unknown = (pl.lit(False) if cur is None else
               (pl.col("s_currency").is_not_null() & ~known_currency("s_currency"))
               | (pl.col("l_currency").is_not_null() & ~known_currency("l_currency")))
    want = ctx.expected_livemode
    wrong_mode = (pl.col("l_livemode").is_not_null() & (pl.col("l_livemode") != want)) \
        if want is not None and spec.livemode else pl.lit(False)
    s_state = pl.col(f"s_{state}") if state else pl.lit(None, pl.String)
    l_state = pl.col(f"l_{state}") if state else pl.lit(None, pl.String)
    state_diff = (s_state.ne_missing(l_state)) if state else pl.lit(False)
    # the user system applied the local state from an event older than the newest event it
    # processed (or tied with one carrying Stripe's current state). Having once applied
    # Stripe's current state long before says nothing: a later change may simply be lost.
    seen = pl.col("_statuses").list
    newest = pl.col("_newest").list
    regression = (state_diff & seen.contains(l_state).fill_null(False)
                  & pl.col("_newest").is_not_null()
                  & (~newest.contains(l_state).fill_null(True)
                     | newest.contains(s_state).fill_null(False)))
    success = SUCCESS_STATES.get(spec.stripe_object or "")
    recv = received_field(spec)
    # Money received in Stripe and not applied locally. Where the mapping says how the user
    # system applies money (a received-amount field, applied-payment rows, an entitlement
    # the money buys), that is the evidence and a differing state alone is STALE_STATE;
    # otherwise this row is the only local record of the payment and its state decides.
    if recv is not None:
        unapplied = ((pl.col(f"s_{recv}").fill_null(0) > 0)
                     & (pl.col(f"l_{recv}").fill_null(0) == 0))
    elif ctx.unapplied_ids is not None:
        unapplied = pl.col("_unapplied")
    elif success and not ctx.applied_elsewhere:
        unapplied = state_diff & (s_state == success) & l_state.ne_missing(pl.lit(success))
    else:
        unapplied = pl.lit(False)
    money_diff = pl.any_horizontal([pl.col("_fields").list.contains(m) for m in money]) \
        if money else pl.lit(False)
    first_money = pl.coalesce([pl.when(pl.col("_fields").list.contains(m)).then(pl.lit(m))
                               for m in money]) if money else pl.lit(None, pl.String)
    sub = pl.lit("AMOUNT_MISMATCH.other")
    for m in reversed(money):
        sub = pl.when(first_money == m).then(
            amount_subclass(f"s_{m}", f"l_{m}", "s_currency" if cur else f"s_{m}",
                            "l_currency" if cur else f"l_{m}")).otherwise(sub)
    reversed_refund = (pl.lit(spec.stripe_object == "refund") & state_diff
                       & s_state.is_in(list(REFUND_REVERSED))
                       & l_state.is_in(["succeeded", "pending"]))
    is_dup = pl.col("_twin").is_not_null()
    paid_success = (s_state == success) if success else pl.lit(False)
    type_spec = spec.fields.get("type")
    if spec.stripe_object == CASH_BALANCE_TXN and type_spec is not None and type_spec.compared:
        # a bank transfer that funded the cash balance: money received, like a paid intent
        paid_success = paid_success | (pl.col("s_type") == "funded")
    missing_class = (pl.when(is_dup).then(pl.lit("DUPLICATE_REMOTE"))
                     .when(paid_success).then(pl.lit("UNAPPLIED_PAYMENT"))
                     .when(pl.lit(spec.stripe_object == "dispute")).then(pl.lit("STALE_STATE"))
                     .otherwise(pl.lit("MISSING_LOCAL")))
    cls = (
        pl.when(unknown & (has | ~matched)).then(pl.lit("UNCLASSIFIED"))
        .when(in_l & wrong_mode).then(pl.lit("ENV_MISMATCH"))
        .when(pl.col("_env")).then(pl.lit("ENV_MISMATCH"))
        .when(in_l & ~in_s).then(pl.lit("ORPHAN_LOCAL") if ctx.check_orphans else pl.lit(None))
        .when(in_s & ~in_l).then(missing_class)
        .when(is_dup).then(pl.lit("DUPLICATE_REMOTE"))
        .when(pl.col("_live")).then(pl.lit("ENV_MISMATCH"))
        .when(pl.col("_acct")).then(pl.lit("MISSING_LOCAL"))
        .when(reversed_refund).then(pl.lit("REVERSED_AFTER_APPLICATION"))
        .when(regression).then(pl.lit("STATE_REGRESSION"))
        .when(unapplied).then(pl.lit("UNAPPLIED_PAYMENT"))
        .when(state_diff).then(pl.lit("STALE_STATE"))
        .when(money_diff).then(sub)
        .when(has).then(pl.lit("STALE_STATE"))
    )
    reason = (
        pl.when(unknown).then(pl.lit("unknown currency ") + pl.coalesce(
            pl.col("s_currency") if cur else pl.lit(""), pl.col("l_currency") if cur
            else pl.lit("")) + pl.lit(": not in the exponent table, amounts cannot be compared"))
        .when(in_l & wrong_mode).then(pl.lit("local row is from the other Stripe mode"))
        .when(pl.col("_env")).then(pl.col("_env_why"))
        .when(in_l & ~in_s).then(pl.lit("the Stripe id does not exist in Stripe"))
        .when(is_dup).then(pl.lit("a second Stripe object for one intent (the first is ")
                           + pl.col("_twin") + pl.lit(")"))
        .when(in_s & ~in_l).then(pl.lit("no local row for this Stripe object"))
        .when(pl.col("_live")).then(pl.lit("livemode differs"))
        .when(pl.col("_acct")).then(pl.lit("Connect account context differs"))
        .when(regression).then(pl.lit("local state went back to an older event's state"))
        .when(unapplied).then(pl.lit("money received in Stripe, none applied locally"))
        .otherwise(pl.lit("fields differ: ") + pl.col("_fields").list.join(", "))
    )
    return cls, reason
