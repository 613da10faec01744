"""Local and delayed payment methods: debits fulfilled early, vouchers that expire, bank
transfers applied as full payments."""

from __future__ import annotations

from collections.abc import Iterator

from tools.checks.context import CheckContext
from tools.checks.declare import check
from tools.checks.model import Check, Finding
from tools.stripe.payment_methods import methods_where

VOUCHERS = methods_where(family="voucher")


def _intent_of(ctx: CheckContext, ent: dict) -> dict | None:
    source = ctx.get(ent.get("source_id"))
    if source is None:
        return None
    if source.get("object") == "checkout.session":
        return ctx.get(source.get("payment_intent"))
    return source if source.get("object") == "payment_intent" else None


@check("lpm.fulfil_on_succeeded_not_processing", "FM-13", "Fulfilled before the payment was "
       "final", severity="critical", products=("Payments", "LPM", "Billing", "Checkout"),
       patterns=("sepa-ach-mandates-delayed-failure",), discrepancy_class="APPLIED_BEFORE_FINAL",
       needs=frozenset({"stripe", "events", "local"}),
       fix="""Revoke value granted on payments that failed; flag the orders fulfilled while
       the debit was still processing.""",
       systemic_fix="""Fulfil bank debits on payment_intent.succeeded / async_payment_succeeded,
       never on processing or checkout.session.completed with payment_status=unpaid.""")
def fulfilled_early(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    for ent in ctx.rows("entitlement"):
        if ent.get("source_type") not in ("payment_intent", "checkout_session"):
            continue
        pi = _intent_of(ctx, ent)
        if pi is None:
            continue
        succeeded = ctx.events_for(pi["id"], ["payment_intent.succeeded"])
        granted = ent.get("granted_at") or 0
        if ent.get("active") and pi.get("status") != "succeeded":
            yield c.finding(f"{ent.get('source_id')}:{ent.get('feature')}",
                            [ent.get("source_id"), pi["id"], ent.get("local_key")],
                            f"{ent.get('feature')!r} is active for {ent.get('source_id')} but "
                            f"its payment {pi['id']} is {pi.get('status')!r}.",
                            details={"payment_status": pi.get("status")})
        elif succeeded and granted < succeeded[0]["created"]:
            yield c.finding(f"{ent.get('source_id')}:{ent.get('feature')}",
                            [ent.get("source_id"), pi["id"], ent.get("local_key")],
                            f"{ent.get('feature')!r} was granted for {ent.get('source_id')} "
                            f"{succeeded[0]['created'] - granted} s before payment {pi['id']} "
                            "succeeded.", severity="medium")


@check("lpm.voucher_expiry_handled", "FM-17", "Expired voucher left pending",
       severity="high", products=("LPM", "Checkout", "Payments"),
       patterns=("vouchers-oxxo-boleto-konbini",), discrepancy_class="STALE_STATE",
       needs=frozenset({"stripe", "events", "local"}),
       needs_any=frozenset({"pending", "processed", "export"}),
       fix="Cancel the orders and payments whose voucher expired; release their stock.",
       systemic_fix="""Handle payment_intent.payment_failed / canceled and
       checkout.session.async_payment_failed / expired for vouchers; sweep orders past the
       voucher's expires_at.""")
def voucher_expired(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    for row, pi in ctx.iter_local_with_stripe("payment", "payment_intent"):
        if not VOUCHERS & set(pi.get("payment_method_types") or []):
            continue
        if pi.get("status") not in ("canceled", "requires_payment_method"):
            continue
        failures = [e for e in ctx.events_for(pi["id"], ["payment_intent.payment_failed",
                                                         "payment_intent.canceled"])
                    if ctx.delivered(e["id"])]
        # the row's status, through the mapping's words, still short of Stripe's final one
        if (failures and not ctx.same("payment", "status", row, pi.get("status"))
                and ctx.delivery.outcome(failures[-1]["id"]) in ("ignored", None)):
            yield c.finding(pi["id"], [pi["id"], failures[-1]["id"], row.get("local_key")],
                            f"voucher payment {pi['id']} expired/failed in Stripe "
                            f"({pi.get('status')}) but is {row.get('status')!r} locally.",
                            details={"sources": _SOURCES(ctx)})
    for row, session in ctx.iter_local_with_stripe("order", "checkout.session"):
        if not VOUCHERS & set(session.get("payment_method_types") or []):
            continue
        # async_payment_failed is checkout.async_payment_events' (FM-14) to report; the
        # order's own status words are the company's, so the handler's log decides
        ends = [e for e in ctx.events_for(session["id"], ["checkout.session.expired"])
                if ctx.delivered(e["id"])]
        if ends and ctx.delivery.outcome(ends[-1]["id"]) == "ignored":
            yield c.finding(session["id"], [session["id"], ends[-1]["id"],
                                            row.get("local_key")],
                            f"voucher order {session['id']} ended ({ends[-1]['type']}) and the "
                            "app's log says it ignored the event: the order is still open "
                            "locally.", details={"sources": _SOURCES(ctx)})


def _SOURCES(ctx: CheckContext) -> str:  # noqa: N802 - reads like the constant it stands for
    return ctx.delivery.label("processed_log", "events_api", "export")


@check("lpm.cash_balance_reconciliation", "FM-16", "Underpaid bank transfer unlocked an "
       "invoice", severity="high", products=("Payments", "Invoicing", "LPM"),
       patterns=("bank-transfers-cash-balance",), discrepancy_class="UNAPPLIED_PAYMENT",
       fix="""Re-open the invoice locally; ask the customer for the remainder or apply the
       funds that arrived.""",
       systemic_fix="""Apply cash balance by amount (Stripe reconciles funds to invoices);
       track under/over-payments as unapplied funds for review.""")
def cash_balance(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    funded = {r.get("customer") for r in ctx.rows("cash_balance_transaction")
              if r.get("type") == "funded"}
    for row, inv in ctx.iter_local_with_stripe("invoice", "invoice"):
        if (inv.get("status") == "open" and ctx.same("invoice", "status", row, "paid")
                and inv.get("customer") in funded):
            yield c.finding(inv["id"], [inv["id"], inv.get("customer"), row.get("local_key")],
                            f"invoice {inv['id']} is open in Stripe "
                            f"({inv.get('amount_remaining')} {inv.get('currency')} remaining) "
                            "but paid locally after a bank transfer funded the customer's "
                            "cash balance.")


CHECKS = [fulfilled_early, voucher_expired, cash_balance]
