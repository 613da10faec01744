"""Invoicing: invoice.created failures that delay finalisation, paid invoices without a
charge that the handler cannot book."""

from __future__ import annotations

from collections.abc import Iterator

from tools.checks.context import CheckContext
from tools.checks.declare import check
from tools.checks.model import Check, Finding, Input

_FAILING_SHARE = 0.5
_EVIDENCE: frozenset[Input] = frozenset({"pending", "export"})


def _failing_share(ctx: CheckContext, events: list[dict]) -> tuple[list[dict], int]:
    """(failed events, events judged): settled events sent and never taken."""
    judged = [(e, ctx.delivery.failed(e)) for e in events]
    judged = [(e, f) for e, f in judged if f is not None]
    return [e for e, f in judged if f], len(judged)


@check("invoicing.invoice_created_2xx", "FM-06", "invoice.created answered with an error",
       severity="high", products=("Billing", "Invoicing"),
       patterns=("invoicing-net-terms", "webhook-queue-then-process"),
       discrepancy_class="WEBHOOK_GAP", needs=frozenset({"events"}), needs_any=_EVIDENCE,
       fix="""Answer 2xx to every verified event type (unknown ones included); finalise stuck
       drafts if the delay matters to the customer.""",
       systemic_fix="""Persist verified events and answer at once, process asynchronously;
       alert on any non-2xx for invoice.created (it delays finalisation up to 72 h).""")
def invoice_created_failing(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    """Per event type: invoice.created mostly unacknowledged while the other types are
    mostly taken (a whole endpoint failing is a signature or outage problem, not this)."""
    others_failed, others = _failing_share(
        ctx, [e for e in ctx.events if e["type"] != "invoice.created"])
    if not others or len(others_failed) / others >= _FAILING_SHARE:
        return
    failed, judged = _failing_share(
        ctx, [e for e in ctx.events if e["type"] == "invoice.created"])
    if failed and len(failed) / judged >= _FAILING_SHARE:
        invoices = [e["data"]["object"].get("id") for e in failed]
        yield c.finding("invoice.created", [*invoices, *(e["id"] for e in failed)],
                        f"{len(failed)} of {judged} invoice.created events were never "
                        "acknowledged nor handled while other event types succeed: renewals "
                        "wait up to 72 h before finalising.",
                        details={"events": len(failed),
                                 "sources": ctx.delivery.label("events_api", "processed_log",
                                                               "export")})


@check("invoicing.paid_without_charge_handled", "FM-15", "Paid invoice without a charge not "
       "booked", severity="medium", products=("Invoicing", "Billing"),
       patterns=("invoice-paid-without-charge",), discrepancy_class="STALE_STATE",
       needs=frozenset({"stripe", "events", "local"}), needs_any=_EVIDENCE,
       fix="Mark the invoices paid locally (settled by balance, discount or out of band).",
       systemic_fix="""Classify paid invoices by settlement (charge, customer balance, out of
       band, zero, credit note) instead of requiring a charge.""")
def paid_without_charge(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    for row, inv in ctx.iter_local_with_stripe("invoice", "invoice"):
        if inv.get("status") != "paid" or ctx.same("invoice", "status", row, "paid"):
            continue
        if inv.get("amount_paid") and not inv.get("paid_out_of_band"):
            continue
        failed = [e for e in ctx.events_for(inv["id"], ["invoice.paid"])
                  if ctx.delivery.failed(e)]
        if failed:
            yield c.finding(inv["id"], [inv["id"], failed[-1]["id"], row.get("local_key")],
                            f"invoice {inv['id']} is paid in Stripe without a charge "
                            f"(amount_paid {inv.get('amount_paid')}) but "
                            f"{row.get('status')!r} locally: invoice.paid was never "
                            "acknowledged nor handled.",
                            details={"sources": ctx.delivery.label(
                                "events_api", "processed_log", "export")})


CHECKS = [invoice_created_failing, paid_without_charge]
