"""Money of billing lines: price × quantity, prorations and metered usage, integers only.

Amounts are minor units (`core.money` owns exponents; a price's ``unit_amount`` is already
minor units). Where a division happens (``unit_amount_decimal``, ``transform_quantity``,
prorations) the rounding is explicit: half away from zero for money, the price's own
``round`` (up/down) for transformed quantities. Meter usage is summed with `Decimal` from the
stored meter events and rounded half up to a whole quantity.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sandbox.replica.context import Ctx
from sandbox.replica.resources.billing_meters import aggregate

Obj = dict[str, Any]


def div_round(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half away from zero, in integers."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    q, r = divmod(abs(numerator), denominator)
    return sign * (q + (1 if 2 * r >= denominator else 0))


def prorate(amount: int, remaining: int, total: int) -> int:
    """The part of `amount` for `remaining` of `total` seconds (Stripe prorates by second)."""
    if total <= 0:
        return 0
    remaining = max(0, min(remaining, total))
    return div_round(amount * remaining, total)


def billed_quantity(price: Obj, quantity: int) -> int:
    transform = price.get("transform_quantity")
    if not transform or not transform.get("divide_by"):
        return quantity
    q, r = divmod(quantity, int(transform["divide_by"]))
    return q + (1 if r and transform.get("round") == "up" else 0)


def _unit_amount(price: Obj) -> Decimal:
    if price.get("unit_amount") is not None:
        return Decimal(int(price["unit_amount"]))
    if price.get("unit_amount_decimal") not in (None, ""):
        return Decimal(str(price["unit_amount_decimal"]))
    return Decimal(0)


def _tiered(ctx: Ctx, price: Obj, quantity: int) -> Decimal:
    # Embedded copies (subscription items, invoice lines) are public views without the
    # private ``_tiers``; the stored price has them.
    tiers = price.get("_tiers") or (ctx.find(price["id"]) or {}).get("_tiers") or []
    if price.get("tiers_mode") == "volume":
        for tier in tiers:
            if tier.get("up_to") in (None, "inf") or quantity <= int(tier["up_to"]):
                unit = Decimal(str(tier.get("unit_amount_decimal") or tier.get("unit_amount") or 0))
                return unit * quantity + Decimal(int(tier.get("flat_amount") or 0))
        return Decimal(0)
    total, lower = Decimal(0), 0
    for tier in tiers:  # graduated: each tier prices the units that fall inside it
        upper = None if tier.get("up_to") in (None, "inf") else int(tier["up_to"])
        units = (quantity if upper is None else min(quantity, upper)) - lower
        if units <= 0:
            break
        unit = Decimal(str(tier.get("unit_amount_decimal") or tier.get("unit_amount") or 0))
        total += unit * units + Decimal(int(tier.get("flat_amount") or 0))
        if upper is None:
            break
        lower = upper
    return total


def line_amount(ctx: Ctx, price: Obj, quantity: int) -> int:
    """What `quantity` of `price` costs for one full period, in minor units."""
    if price.get("billing_scheme") == "tiered":
        exact = _tiered(ctx, price, quantity)
    else:
        exact = _unit_amount(price) * billed_quantity(price, quantity)
    return int(exact.to_integral_value(rounding=ROUND_HALF_UP))


def unit_amount_decimal(price: Obj) -> str | None:
    if price.get("unit_amount_decimal") not in (None, ""):
        return str(price["unit_amount_decimal"])
    return None if price.get("unit_amount") is None else str(price["unit_amount"])


def meter_usage(ctx: Ctx, meter_id: str, customer: str, start: int, end: int) -> int:
    """Aggregated value of a meter's events for `customer` over ``[start, end)``."""
    meter = ctx.find(meter_id)
    if meter is None or meter.get("object") != "billing.meter":
        return 0
    total = aggregate(ctx, meter, customer, start, end)
    return int(total.to_integral_value(rounding=ROUND_HALF_UP))
