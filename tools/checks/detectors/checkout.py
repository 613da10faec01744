"""Checkout: delayed-method sessions whose async payment events are ignored."""

from __future__ import annotations

from collections.abc import Iterator

from tools.checks.context import CheckContext
from tools.checks.declare import check
from tools.checks.model import Check, Finding


@check("checkout.async_payment_events", "FM-14", "Checkout async payment outcome ignored",
       severity="high", products=("Checkout", "LPM"),
       patterns=("checkout-per-country-async-methods", "checkout-fulfil-from-webhooks"),
       discrepancy_class="UNAPPLIED_PAYMENT",
       needs=frozenset({"stripe", "events", "deliveries", "local"}),
       fix="Fulfil the paid orders (and mark the failed ones) from the sessions' final state.",
       systemic_fix="""Handle checkout.session.async_payment_succeeded and
       async_payment_failed; completed with payment_status=unpaid never fulfils.""")
def async_ignored(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    for row, session in ctx.iter_local_with_stripe("order", "checkout.session"):
        status = row.get("order_status")
        for etype, stuck in (("checkout.session.async_payment_succeeded", "paid"),
                             ("checkout.session.async_payment_failed", "payment_failed")):
            evs = [e for e in ctx.events_for(session["id"], [etype]) if ctx.delivered(e["id"])]
            if evs and status == "awaiting_payment" and stuck != status:
                yield c.finding(session["id"], [session["id"], evs[-1]["id"],
                                                row.get("local_key")],
                                f"order {session['id']} is still awaiting payment locally "
                                f"although {etype} was delivered ({evs[-1]['id']}).",
                                details={"event_type": etype})
                break


CHECKS = [async_ignored]
