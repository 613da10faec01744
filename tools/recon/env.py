"""ENV_MISMATCH when the user's table records neither livemode nor account.

Most company databases keep a Stripe id and nothing about where it came from, so a test-mode
id pasted into a live row (or an id from another of the company's accounts) only shows in
where the object is found. Three signals, strongest first, each with the confidence the
report states:

- the object's own ``livemode`` differs from the engagement's mode (1.0: Stripe says so);
- the id carries a mode marker that contradicts the engagement (``cs_test_…`` in a live
  engagement; 1.0) — only some Stripe ids carry one, and the id's length or alphabet say
  nothing about its mode, so nothing else about its shape is read;
- the object lives in another account than the one holding most of this entity's matched
  rows (a connected account or the other mode's account synced beside the engagement's
  own): confidence = 1 − that account's share of the matched rows. Without a majority
  account (a Connect platform whose table spans many accounts) this signal is not used.
  The table then mirrors that majority account: Stripe objects elsewhere that no row names
  (the test account's own activity) are not expected locally, never MISSING_LOCAL.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

__all__ = ["EnvSignal", "MODE_MARKER", "env_signal"]

MODE_MARKER = r"^[a-z]+_(test|live)_"
_PLATFORM = ""  # stands for "no account" (the engagement's own) in share lookups


@dataclass(frozen=True)
class EnvSignal:
    """Expressions over the joined frame (``s_*``/``l_*`` columns). ``matched`` is the part
    that can fire on a matched row (the classifier keeps those rows; local-only rows are
    kept anyway, so the id-marker test runs on those few rows only)."""

    flag: pl.Expr
    matched: pl.Expr
    confidence: pl.Expr
    reason: pl.Expr
    # Stripe objects living outside the account the table mirrors: not expected locally
    elsewhere: pl.Expr = pl.lit(False)

    @staticmethod
    def none() -> EnvSignal:
        return EnvSignal(pl.lit(False), pl.lit(False), pl.lit(None, pl.Float64),
                         pl.lit(None, pl.String))


def _mode(live: bool) -> str:
    return "live" if live else "test"


def _home_account(joined: pl.DataFrame, matched: pl.Expr) -> tuple[str, dict[str, float]] | None:
    """The account holding more than half of the matched rows, and every account's share."""
    accounts = joined.filter(matched).select(pl.col("s_account").fill_null(_PLATFORM))
    if not accounts.height:
        return None
    shares = accounts.group_by("s_account").len()
    total = accounts.height
    by = {a: n / total for a, n in shares.iter_rows()}
    home, share = max(by.items(), key=lambda kv: kv[1])
    return (home, by) if share > 0.5 else None


def env_signal(joined: pl.DataFrame, *, has_livemode: bool, has_account: bool,
               expected_livemode: bool | None) -> EnvSignal:
    """The inferred ENV_MISMATCH for rows of one entity (nothing when the table says)."""
    if has_livemode and has_account:
        return EnvSignal.none()
    in_s, in_l = pl.col("s_stripe_id").is_not_null(), pl.col("l_local_key").is_not_null()
    matched = in_s & in_l
    flags: list[tuple[pl.Expr, pl.Expr, pl.Expr]] = []
    marker_flag: pl.Expr | None = None
    elsewhere: pl.Expr = pl.lit(False)
    if not has_livemode and expected_livemode is not None:
        want, other = _mode(expected_livemode), _mode(not expected_livemode)
        if "s_livemode" in joined.columns:
            flags.append((
                matched & pl.col("s_livemode").is_not_null()
                & (pl.col("s_livemode") != expected_livemode),
                pl.lit(1.0),
                pl.lit(f"the Stripe object is a {other}-mode object; this engagement is {want} "
                       "mode (the table records no livemode)")))
        marker = pl.col("l_stripe_id").str.extract(MODE_MARKER, 1)
        marker_flag = in_l & ~in_s & (marker == other).fill_null(False)
        flags.append((
            marker_flag, pl.lit(1.0),
            pl.lit(f"the id is a {other}-mode id (its prefix says so); this engagement is "
                   f"{want} mode and no such object exists here")))
    if not has_account and "s_account" in joined.columns \
            and joined["s_account"].null_count() < joined.height:
        found = _home_account(joined, matched)
        if found is not None:
            home, by = found
            account = pl.col("s_account").fill_null(_PLATFORM)
            share = account.replace_strict(list(by), list(by.values()), default=0.0,
                                           return_dtype=pl.Float64)
            where = "the engagement's own account" if home == _PLATFORM else f"account {home}"
            elsewhere = in_s & ~in_l & (account != home)
            flags.append((
                matched & (account != home), (1 - share).round(2),
                pl.lit("the object lives in ") + pl.coalesce(pl.col("s_account"),
                                                             pl.lit("the platform account"))
                + pl.lit(f", not in {where} where most of this table's objects are; the table "
                         "records no account, so the id came from another account or mode "
                         "(")
                + (share * 100).round(1).cast(pl.String) + pl.lit("% of matched rows live there)")))
    if not flags:
        return EnvSignal.none()
    flag = pl.any_horizontal([f for f, _, _ in flags])
    on_matched = [f for f, _, _ in flags if f is not marker_flag]
    confidence, reason = pl.lit(None, pl.Float64), pl.lit(None, pl.String)
    for f, c, r in reversed(flags):
        confidence = pl.when(f).then(c).otherwise(confidence)
        reason = pl.when(f).then(r).otherwise(reason)
    return EnvSignal(flag, pl.any_horizontal(on_matched) if on_matched else pl.lit(False),
                     confidence, reason, elsewhere)
