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
       needs=frozenset({"stripe", "events", "local"}),
       needs_any=frozenset({"pending", "processed", "export"}),
       fix="Fulfil the paid orders (and mark the failed ones) from the sessions' final state.",
       systemic_fix="""Handle checkout.session.async_payment_succeeded and
       async_payment_failed; completed with payment_status=unpaid never fulfils.""")
def async_ignored(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    """The async outcome reached the app and changed nothing: the handler's log says it
    ignored it, or (no log) the order's payment_status still differs from the session's."""
    for row, session in ctx.iter_local_with_stripe("order", "checkout.session"):
        for etype in ("checkout.session.async_payment_succeeded",
                      "checkout.session.async_payment_failed"):
            evs = [e for e in ctx.events_for(session["id"], [etype])
                   if ctx.delivery.reached_app(e)]
            if not evs:
                continue
            outcome = ctx.delivery.outcome(evs[-1]["id"])
            stale = ("payment_status" in row and not ctx.same(
                "order", "payment_status", row, session.get("payment_status")))
            if outcome == "ignored" or (outcome is None and stale):
                yield c.finding(session["id"], [session["id"], evs[-1]["id"],
                                                row.get("local_key")],
                                f"order {session['id']}: {etype} reached the app "
                                f"({evs[-1]['id']}) and "
                                f"{'its log says it was ignored' if outcome else 'changed nothing'}"
                                "; the order still waits for its payment.",
                                details={"event_type": etype,
                                         "sources": ctx.delivery.label(
                                             "processed_log", "events_api", "export")})
                break


CHECKS = [async_ignored]
