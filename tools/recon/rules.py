"""Small named rules the classifier combines: each is a Polars expression or a tiny table.

Kept apart from the classifier so each rule can be read (and tested) on its own.
"""

from __future__ import annotations

import polars as pl

from core.money import EXPONENTS

__all__ = [
    "DISC_SCHEMA", "amount_subclass", "known_currency", "lifecycle_rank", "SUCCESS_STATES",
    "REFUND_REVERSED", "DISPUTE_REVERSES", "PI_PENDING", "SUB_NO_VALUE", "SUB_SHOULD_REVOKE",
]

DISC_SCHEMA: dict[str, pl.DataType] = {
    "class": pl.String(), "entity": pl.String(), "stripe_id": pl.String(),
    "local_key": pl.String(), "fields": pl.List(pl.String()), "amount_minor": pl.Int64(),
    "currency": pl.String(), "s_contrib": pl.Int64(), "s_cur": pl.String(),
    "l_contrib": pl.Int64(), "l_cur": pl.String(), "ev_stripe": pl.List(pl.String()),
    "ev_local": pl.List(pl.String()), "reason": pl.String(), "needs_review": pl.Boolean(),
    "confidence": pl.Float64(), "s_values": pl.String(), "l_values": pl.String(),
}
"""One row per discrepancy inside the engine; converted to `Discrepancy` at the boundary."""

_EXP = pl.DataFrame({"cur": list(EXPONENTS), "exp": list(EXPONENTS.values())},
                    schema={"cur": pl.String, "exp": pl.Int64})


def known_currency(col: str) -> pl.Expr:
    """True when the column holds a currency of the one exponent table (core.money)."""
    return pl.col(col).str.to_lowercase().is_in(_EXP["cur"].implode())


def exponent_of(col: str) -> pl.Expr:
    return pl.col(col).str.to_lowercase().replace_strict(
        _EXP["cur"], _EXP["exp"], default=None, return_dtype=pl.Int64)


def _scaled(s: pl.Expr, lo: pl.Expr, k: int) -> pl.Expr:
    """l is s with the decimal point moved k places (stored with the wrong exponent)."""
    f = 10**k
    return ((lo == s * f) | ((s.abs() >= f) & (lo == (s / f).floor().cast(pl.Int64)))
            | ((s.abs() >= f) & (lo == (s / f).round(0).cast(pl.Int64))))


def amount_subclass(s: str, lo: str, s_cur: str, l_cur: str) -> pl.Expr:
    """AMOUNT_MISMATCH sub-class for a differing pair of minor-unit amounts.

    exponent: the local amount is Stripe's with the decimal point moved 1–3 places (a ×100
    cents conversion applied to JPY, ×100 instead of ×1000 for BHD); rounding: off by the
    currency's smallest step (1 minor unit; <10 for three-decimal currencies, whose last
    digit Stripe requires to be 0); fee_fx: a different currency locally (settlement/FX);
    other: anything else.
    """
    sa, la = pl.col(s), pl.col(lo)
    step = pl.when(exponent_of(s_cur) == 3).then(pl.lit(9)).otherwise(pl.lit(1))
    exponent = _scaled(sa, la, 1) | _scaled(sa, la, 2) | _scaled(sa, la, 3)
    return (
        pl.when(pl.col(l_cur).is_not_null() & (pl.col(s_cur) != pl.col(l_cur)))
        .then(pl.lit("AMOUNT_MISMATCH.fee_fx"))
        .when(((sa - la).abs() <= step) & (sa != la))
        .then(pl.lit("AMOUNT_MISMATCH.rounding"))
        .when(exponent).then(pl.lit("AMOUNT_MISMATCH.exponent"))
        .otherwise(pl.lit("AMOUNT_MISMATCH.other"))
    )


_RANKS = {
    "draft": 0, "open": 1, "paid": 2, "void": 2, "uncollectible": 2,
    "incomplete": 0, "trialing": 1, "active": 2, "past_due": 3, "unpaid": 4, "paused": 4,
    "canceled": 5, "incomplete_expired": 5,
    "requires_payment_method": 0, "requires_confirmation": 1, "requires_action": 1,
    "processing": 2, "requires_capture": 3, "succeeded": 4,
    "unpaid_session": 0, "no_payment_required": 1,
}


def lifecycle_rank(col: str) -> pl.Expr:
    """Rough lifecycle order of a status, used only to break same-second event ties."""
    return pl.col(col).replace_strict(_RANKS, default=0, return_dtype=pl.Int64)


SUCCESS_STATES = {"payment_intent": "succeeded", "checkout.session": "paid"}
"""Per Stripe object: the state meaning the money was received."""
REFUND_REVERSED = ("failed", "canceled")
DISPUTE_REVERSES = ("needs_response", "under_review", "lost")
PI_PENDING = ("processing",)
SUB_NO_VALUE = ("incomplete", "incomplete_expired")
SUB_SHOULD_REVOKE = ("unpaid", "canceled", "paused")
