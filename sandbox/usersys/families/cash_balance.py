"""customer_cash_balance_transaction.created → bank_transfers."""

from __future__ import annotations

from sqlalchemy import select

from sandbox.usersys.context import Ctx, stripe_id, ts
from sandbox.usersys.families._rows import get_or_new
from sandbox.usersys.models import Account, BankTransfer, Invoice


def on_cash_balance_transaction(ctx: Ctx) -> None:
    txn = ctx.obj
    tid = txn["id"]
    row, created = get_or_new(ctx, BankTransfer, BankTransfer.stripe_transaction_id, tid)
    if not created:
        return ctx.stale("cash balance transactions never change")
    account = ctx.account_for(txn.get("customer"))
    currency = txn.get("currency")
    funded = txn.get("funded") or {}
    applied = txn.get("applied_to_payment") or {}
    row.account_id = account.id if account else None
    row.type = txn.get("type")
    row.net_amount = ctx.amount(txn.get("net_amount"), currency, tid)
    row.ending_balance = ctx.amount(txn.get("ending_balance"), currency, tid)
    row.currency = currency
    row.reference = (funded.get("bank_transfer") or {}).get("reference")
    row.stripe_payment_intent_id = stripe_id(applied.get("payment_intent"))
    row.occurred_at = ts(txn.get("created"))
    ctx.stamp(row, 0)
    ctx.session.flush()
    ctx.effect(f"bank transfer {tid} {row.type} {row.net_amount} {currency}")
    if row.type == "funded" and account is not None and ctx.on("FM-16"):
        _mark_oldest_open_invoice_paid(ctx, row, account)


def _mark_oldest_open_invoice_paid(ctx: Ctx, row: BankTransfer, account: Account) -> None:
    # FM-16: "money arrived" is taken as "the invoice is paid", whatever the amount.
    invoice = ctx.session.scalar(
        select(Invoice)
        .where(Invoice.account_id == account.id, Invoice.status == "open",
               Invoice.currency == row.currency)
        .order_by(Invoice.period_end, Invoice.id)
        .limit(1)
    )
    if invoice is None:
        return
    due = invoice.amount_remaining or 0
    verdict = "underpaid" if (row.net_amount or 0) < due else "covers it"
    ctx.hit("FM-16", invoice.stripe_invoice_id,
            f"{row.net_amount} funded vs {due} due ({verdict}); invoice marked paid locally")
    invoice.status = "paid"
    invoice.amount_paid = invoice.amount_due
    invoice.amount_remaining = 0
    invoice.paid_at = ctx.now
    row.applied_invoice_id = invoice.id
