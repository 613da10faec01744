"""Billing periods: where a recurring price's period ends, from its billing cycle anchor.

Periods are counted from the anchor (``anchor + k × interval``), never chained from the
previous end, so a subscription anchored on Jan 31 bills Feb 28, Mar 31, Apr 30 … as Stripe
does (the day of month is clamped, not drifted). All times are UTC unix seconds.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from typing import Any

DAY = 86400
_FIXED = {"day": DAY, "week": 7 * DAY}


def _add_months(anchor: int, months: int) -> int:
    start = datetime.fromtimestamp(anchor, UTC)
    total = start.month - 1 + months
    year, month = start.year + total // 12, total % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return int(start.replace(year=year, month=month, day=day).timestamp())


def shift(anchor: int, interval: str, count: int, k: int) -> int:
    """The boundary `k` intervals of `count` units after `anchor`."""
    if interval in _FIXED:
        return anchor + _FIXED[interval] * count * k
    months = count * k * (12 if interval == "year" else 1)
    if interval not in ("month", "year"):
        raise ValueError(f"unknown interval {interval!r}")
    return _add_months(anchor, months)


def recurring_of(price: dict[str, Any]) -> tuple[str, int]:
    rec = price.get("recurring") or {}
    return rec.get("interval") or "month", int(rec.get("interval_count") or 1)


def period_containing(anchor: int, interval: str, count: int, at: int) -> tuple[int, int]:
    """The period ``[start, end)`` that contains `at` (``at`` ≥ anchor)."""
    if at < anchor:
        return anchor, shift(anchor, interval, count, 1)
    if interval in _FIXED:
        k = (at - anchor) // (_FIXED[interval] * count)
    else:
        # Estimate by months, then correct for clamping at month ends.
        a, b = datetime.fromtimestamp(anchor, UTC), datetime.fromtimestamp(at, UTC)
        months = (b.year - a.year) * 12 + (b.month - a.month)
        k = max(0, months // (count * (12 if interval == "year" else 1)) - 1)
    while shift(anchor, interval, count, k + 1) <= at:
        k += 1
    while k > 0 and shift(anchor, interval, count, k) > at:
        k -= 1
    return shift(anchor, interval, count, k), shift(anchor, interval, count, k + 1)


def next_period(anchor: int, interval: str, count: int, end: int) -> tuple[int, int]:
    """The period that starts at `end` (the boundary after the current one)."""
    return period_containing(anchor, interval, count, end)


def human_date(ts: int) -> str:
    """``25 Nov 2026``: how Stripe's proration descriptions name a date."""
    return datetime.fromtimestamp(ts, UTC).strftime("%d %b %Y").lstrip("0")
