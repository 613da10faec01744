"""Metered usage as Stripe counted it: meter event summaries per metered subscription.

Meter events cannot be listed or retrieved (Stripe has no list endpoint and no GET for
them), so what Stripe will bill for is visible only through
``GET /v1/billing/meters/{id}/event_summaries?customer=…``. For each subscription with a
metered price this asks, per meter, for daily summaries (``value_grouping_window=day``)
over the last `LOOKBACK_DAYS` complete UTC days (Stripe rejects meter events older than 35
days, so that covers every usage report that can still change an invoice), and for one
summary of the current day so far. Stripe aggregates asynchronously, so nothing newer than
`SETTLE_SECONDS` is asked for.

Summaries carry no customer; the customer and subscription they were asked for are stored
on each (``customer``, ``subscription``), as payouts are on their balance transactions.
Nothing announces a new summary (there are no events for them), so the type is listed again
on every sync (`ListSpec.refresh`).
"""

from __future__ import annotations

from typing import Any

from tools.recon.sync.full import Lister

__all__ = ["DAY", "LOOKBACK_DAYS", "SETTLE_SECONDS", "fetch_meter_usage", "metered_prices",
           "meters_of", "windows"]

DAY = 86400
LOOKBACK_DAYS = 35
SETTLE_SECONDS = 3600


def windows(now: int) -> list[tuple[int, int, str | None]]:
    """``(start, end, value_grouping_window)`` to ask for: the complete UTC days, then the
    settled part of the current one (minute-aligned, as Stripe requires)."""
    end = (now - SETTLE_SECONDS) // 60 * 60
    today = end // DAY * DAY
    out: list[tuple[int, int, str | None]] = [(today - LOOKBACK_DAYS * DAY, today, "day")]
    if end > today:
        out.append((today, end, None))
    return out


def metered_prices(subscription: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Meter id → the subscription's price billed on it (the first item's), in item order."""
    prices: dict[str, dict[str, Any]] = {}
    for item in (subscription.get("items") or {}).get("data") or []:
        price = item.get("price") if isinstance(item.get("price"), dict) else {}
        meter = (price.get("recurring") or {}).get("meter")
        if meter:
            prices.setdefault(meter, price)
    return prices


def meters_of(subscription: dict[str, Any]) -> list[str]:
    """Meter ids of the subscription's metered prices, in item order."""
    return list(metered_prices(subscription))


def fetch_meter_usage(gateway: Lister, subscription: dict[str, Any], *,
                      now: int) -> list[dict[str, Any]]:
    """Daily summaries for each meter of one subscription (none when it is not metered, or
    ended before the window)."""
    asked = windows(now)
    ended = subscription.get("ended_at")
    customer = subscription.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    if not customer or (ended and ended < asked[0][0]):
        return []
    out: list[dict[str, Any]] = []
    for meter in meters_of(subscription):
        for start, end, grouping in asked:
            params: dict[str, Any] = {"customer": customer, "start_time": start,
                                      "end_time": end}
            if grouping:
                params["value_grouping_window"] = grouping
            for summary in gateway.list_all(f"/v1/billing/meters/{meter}/event_summaries",
                                            params):
                summary["customer"], summary["subscription"] = customer, subscription["id"]
                out.append(summary)
    return out
