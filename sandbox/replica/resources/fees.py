"""The replica's fee schedule: deterministic, integer-only, right for every currency exponent.

Rates are basis points of the amount; fixed parts are given in *hundredths of the major
unit* (``30`` = 0.30 of the currency) and scaled to the currency's minor units with
`core.money.exponent`, so USD/EUR (2 decimals) keep 30, JPY (0) gets round(0.30) = 0 and
BHD (3) gets 300. Every division rounds half up, explicitly, on integers.

    card, link           2.9 % + 0.30            USD 10.00 -> 29 + 30 = 59
                                                 JPY 1000  -> 29 + 0  = 29
                                                 BHD 10.000 -> 290 + 300 = 590
    sepa_debit           0.35 flat
    us_bank_account      0.8 %, capped at 5.00
    customer_balance     0.8 %, capped at 5.00   (bank transfers)
    oxxo/boleto/konbini  3.6 %                   (vouchers: percentage only)
    dispute              15.00 flat per dispute  (not returned when the dispute is won)
    refunds, payouts     no fee

The real schedule differs by country and contract; the point here is that fees are
predictable in tests and exercise the exponent handling that breaks real integrations.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.money import exponent

__all__ = ["FeeRule", "div_half_up", "dispute_fee", "major_hundredths", "processing_fee"]


@dataclass(frozen=True)
class FeeRule:
    bps: int = 0  # percentage part, in basis points of the amount
    fixed: int = 0  # fixed part, in hundredths of the major unit
    cap: int | None = None  # cap on the whole fee, in hundredths of the major unit


RULES: dict[str, FeeRule] = {
    "card": FeeRule(bps=290, fixed=30),
    "link": FeeRule(bps=290, fixed=30),
    "sepa_debit": FeeRule(fixed=35),
    "us_bank_account": FeeRule(bps=80, cap=500),
    "customer_balance": FeeRule(bps=80, cap=500),
    "oxxo": FeeRule(bps=360),
    "boleto": FeeRule(bps=360),
    "konbini": FeeRule(bps=360),
}
DISPUTE_FEE = 1500  # hundredths of the major unit: 15.00


def div_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up (away from zero for negatives)."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    return sign * ((abs(numerator) * 2 + denominator) // (2 * denominator))


def major_hundredths(value: int, currency: str) -> int:
    """``value`` hundredths of a major unit in `currency`'s minor units (half up)."""
    exp = exponent(currency)
    if exp >= 2:
        return value * 10 ** (exp - 2)
    return div_half_up(value, 10 ** (2 - exp))


def processing_fee(amount: int, currency: str, method_type: str) -> int:
    """Stripe's processing fee on a captured `amount` paid with `method_type`."""
    rule = RULES.get(method_type, RULES["card"])
    fee = div_half_up(amount * rule.bps, 10_000) + major_hundredths(rule.fixed, currency)
    if rule.cap is not None:
        fee = min(fee, major_hundredths(rule.cap, currency))
    return max(fee, 0)


def dispute_fee(currency: str) -> int:
    return major_hundredths(DISPUTE_FEE, currency)
