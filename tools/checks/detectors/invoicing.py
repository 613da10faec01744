"""Invoicing: invoice.created failures that delay finalisation, paid invoices without a
charge that the handler cannot book."""

from __future__ import annotations

from collections.abc import Iterator

from tools.checks.context import CheckContext
from tools.checks.declare import check
from tools.checks.model import Check, Finding

_HEALTHY_SHARE = 0.5


def _failed_http(ctx: CheckContext, event_id: str) -> bool:
    attempts = ctx.attempts(event_id)
    return bool(attempts) and not any(d.ok for d in attempts) and any(
        d.status is not None and d.status >= 400 for d in attempts)


@check("invoicing.invoice_created_2xx", "FM-06", "invoice.created answered with an error",
       severity="high", products=("Billing", "Invoicing"),
       patterns=("invoicing-net-terms", "webhook-queue-then-process"),
       discrepancy_class="WEBHOOK_GAP", needs=frozenset({"events", "deliveries"}),
       fix="""Answer 2xx to every verified event type (unknown ones included); finalise stuck
       drafts if the delay matters to the customer.""",
       systemic_fix="""Persist verified events and answer at once, process asynchronously;
       alert on any non-2xx for invoice.created (it delays finalisation up to 72 h).""")
def invoice_created_failing(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    others = [e for e in ctx.events if e["type"] != "invoice.created" and ctx.attempts(e["id"])]
    if not others or sum(ctx.delivered(e["id"]) for e in others) / len(others) < _HEALTHY_SHARE:
        return  # the whole endpoint fails: a signature or outage problem, not this one
    failed = [e for e in ctx.events if e["type"] == "invoice.created"
              and _failed_http(ctx, e["id"])]
    if failed:
        invoices = [e["data"]["object"].get("id") for e in failed]
        yield c.finding("invoice.created", [*invoices, *(e["id"] for e in failed)],
                        f"{len(failed)} invoice.created deliveries were answered with HTTP "
                        "errors while other event types succeed: renewals wait up to 72 h "
                        "before finalising.", details={"events": len(failed)})


@check("invoicing.paid_without_charge_handled", "FM-15", "Paid invoice without a charge not "
       "booked", severity="medium", products=("Invoicing", "Billing"),
       patterns=("invoice-paid-without-charge",), discrepancy_class="STALE_STATE",
       needs=frozenset({"stripe", "events", "deliveries", "local"}),
       fix="Mark the invoices paid locally (settled by balance, discount or out of band).",
       systemic_fix="""Classify paid invoices by settlement (charge, customer balance, out of
       band, zero, credit note) instead of requiring a charge.""")
def paid_without_charge(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    for row, inv in ctx.iter_local_with_stripe("invoice", "invoice"):
        if inv.get("status") != "paid" or row.get("status") == "paid":
            continue
        if inv.get("amount_paid") and not inv.get("paid_out_of_band"):
            continue
        failed = [e for e in ctx.events_for(inv["id"], ["invoice.paid"])
                  if _failed_http(ctx, e["id"])]
        if failed:
            yield c.finding(inv["id"], [inv["id"], failed[-1]["id"], row.get("local_key")],
                            f"invoice {inv['id']} is paid in Stripe without a charge "
                            f"(amount_paid {inv.get('amount_paid')}) but "
                            f"{row.get('status')!r} locally: invoice.paid was answered with an "
                            "error.")


CHECKS = [invoice_created_failing, paid_without_charge]
