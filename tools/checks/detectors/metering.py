"""Usage-based billing: meter events resent with fresh identifiers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from tools.checks.context import CheckContext
from tools.checks.declare import check
from tools.checks.model import Check, Finding


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


CHECKS = [duplicate_meter_events]
