"""Usage-based billing: usage Stripe counted more than once.

Two views of FM-30. Meter events themselves (when a source holds them: Stripe cannot list
them) show the duplicate directly: same customer, value and timestamp, different
identifiers. What a sync can always see are the meter event summaries (`recon/sync/
meter_usage.py`): per UTC day, Stripe's aggregate next to the same formula over the company's
own usage records. More in Stripe than recorded is usage billed that never happened.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal

from core.money import Money, exponent, round_minor
from tools.checks.context import CheckContext
from tools.checks.declare import check
from tools.checks.model import Check, Finding
from tools.recon.sync.meter_usage import metered_prices


@check("metering.identifier_deterministic", "FM-30", "Usage counted twice by Stripe",
       severity="high", products=("Billing",),
       patterns=("usage-meter-events-idempotent",), discrepancy_class="DUPLICATE_REMOTE",
       needs=frozenset({"stripe"}),
       fix="""Credit the double-counted usage on the next invoice (or a credit note) for the
       affected customers.""",
       systemic_fix="""Derive every meter event identifier from the usage record (stable across
       retries) and send from an outbox.""")
def duplicate_meter_events(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for ev in ctx.of("billing.meter_event"):
        payload = ev.get("payload") or {}
        groups[(ev.get("event_name"), payload.get("stripe_customer_id"), payload.get("value"),
                ev.get("timestamp"))].append(ev)
    for (meter, customer, value, ts), events in groups.items():
        identifiers = sorted({e.get("identifier") for e in events if e.get("identifier")})
        if len(identifiers) > 1:
            yield c.finding(f"{meter}:{customer}:{ts}", [customer, *identifiers],
                            f"{len(identifiers)} meter events for {customer} on {meter} with "
                            f"the same value {value} and timestamp {ts} but different "
                            "identifiers: Stripe counts the usage more than once.")


def _billed(ctx: CheckContext, subscription: str | None, meter: str,
            units: Decimal) -> Money | None:
    """What `units` cost at the subscription's per-unit metered price (None for tiered or
    transformed prices: the marginal cost depends on the whole period)."""
    price = metered_prices(ctx.get(subscription) or {}).get(meter)
    if price is None:
        return None
    unit = price.get("unit_amount_decimal") or price.get("unit_amount")
    if price.get("billing_scheme", "per_unit") != "per_unit" or unit is None \
            or price.get("transform_quantity") or not price.get("currency"):
        return None
    currency = price["currency"]
    # unit_amount_decimal is in minor units; Stripe rounds each line to a whole one
    major = (units * Decimal(str(unit))).scaleb(-exponent(currency))
    return Money(amount=round_minor(major, currency, rounding=ROUND_HALF_UP), currency=currency)


def _combine(formula: str, rows: list[dict]) -> Decimal:
    """The meter's formula over the company's rows (in occurrence order)."""
    if formula == "count":
        return Decimal(len(rows))
    if formula == "last":
        return Decimal(rows[-1]["quantity"] or 0) if rows else Decimal(0)
    return sum((Decimal(r.get("quantity") or 0) for r in rows), Decimal(0))


@check("metering.usage_reconciliation", "FM-30", "Stripe counted more usage than was recorded",
       severity="high", products=("Billing",), patterns=("usage-meter-events-idempotent",),
       discrepancy_class="DUPLICATE_REMOTE",
       fix="""Credit the usage billed beyond the company's records (credit note on the invoice
       that charged it, or a credit on the next one) for the affected customers.""",
       systemic_fix="""Derive every meter event identifier from the usage record (stable across
       retries), send from an outbox, and compare meter event summaries with the usage
       records daily, before invoices finalise.""")
def usage_beyond_records(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    meters = {m["id"]: m for m in ctx.of("billing.meter")}
    summaries = ctx.of("billing.meter_event_summary")
    # a summary is per customer; the company's rows say whose usage they are by customer or
    # by subscription (a row whose account was never linked to Stripe still has the latter)
    subs_of: dict[str, set[str]] = defaultdict(set)
    for summary in summaries:
        if summary.get("customer") and summary.get("subscription"):
            subs_of[summary["customer"]].add(summary["subscription"])
    usage: dict[tuple, dict[str, dict]] = defaultdict(dict)
    for row in ctx.rows("usage_record"):
        if row.get("occurred_at") is None:
            continue
        for owner in {row.get("customer"), row.get("subscription")} - {None}:
            usage[(owner, row.get("meter"))][row.get("local_key") or row.get("stripe_id")] = row
    over: dict[tuple[str, str], list[tuple[dict, Decimal, list[dict]]]] = defaultdict(list)
    seen: set[tuple] = set()
    for summary in sorted(summaries, key=lambda s: (s.get("start_time") or 0, s["id"])):
        meter = meters.get(summary.get("meter"))
        customer, start, end = (summary.get("customer"), summary.get("start_time"),
                                summary.get("end_time"))
        key = (customer, summary.get("meter"), start, end)
        if meter is None or None in key or key in seen:
            continue  # two subscriptions on one meter ask for the same summary
        seen.add(key)
        owned: dict[str, dict] = {}
        for owner in {customer, *subs_of[customer]}:
            owned.update(usage.get((owner, meter["event_name"]), {}))
        if not owned:
            continue  # no records of this customer's usage at all: nothing to compare with
        inside = sorted((r for r in owned.values() if start <= r["occurred_at"] < end),
                        key=lambda r: (r["occurred_at"], r.get("stripe_id") or ""))
        recorded = _combine((meter.get("default_aggregation") or {}).get("formula") or "sum",
                            inside)
        if Decimal(str(summary.get("aggregated_value") or 0)) > recorded:
            over[(customer, meter["id"])].append((summary, recorded, inside))
    for (customer, meter_id), days in sorted(over.items()):
        counted = sum((Decimal(str(s["aggregated_value"])) for s, _, _ in days), Decimal(0))
        recorded = sum((r for _, r, _ in days), Decimal(0))
        ratio = f", {counted / recorded:.2f}x" if recorded else ""
        records = [r.get("stripe_id") for _, _, rows in days for r in rows]
        billed = _billed(ctx, days[0][0].get("subscription"), meter_id, counted - recorded)
        cost = f", billed at {billed.format()}" if billed else ""
        yield c.finding(
            f"{meter_id}:{customer}", [customer, meter_id, *(s["id"] for s, _, _ in days),
                                       *records],
            f"Stripe's meter {meters[meter_id]['event_name']} counted {counted} for {customer} "
            f"on {len(days)} day(s) where the company's usage records give {recorded} "
            f"({counted - recorded} more{ratio}{cost}): usage reported more than once "
            "(retries with new identifiers) or a meter formula that does not match what is "
            "sent.",
            details={"days": len(days), "counted": str(counted), "recorded": str(recorded),
                     "excess": str(counted - recorded),
                     "amount": billed.amount if billed else None,
                     "currency": billed.currency if billed else None})


CHECKS = [duplicate_meter_events, usage_beyond_records]
