"""Review rules: Tax, invoicing, reporting and migrations."""

from __future__ import annotations

from knowledge.review.model import Architecture
from knowledge.review.rules import Outcome, bad, flag, ok, rule


# -- tax, invoicing, reporting, migration --------------------------------------------------
@rule("tax.single_engine")
def _tax_engine(a: Architecture) -> Outcome | None:
    if not a.tax or a.tax.engine is None:
        return None
    return bad("tax.engine = both") if a.tax.engine == "both" else ok(
        f"tax.engine = {a.tax.engine}")


@rule("tax.customer_location_collected")
def _tax_address(a: Architecture) -> Outcome | None:
    if not a.tax or a.tax.engine in (None, "none"):
        return None
    return flag(a.tax.collects_address, "tax.collects_address")


@rule("invoicing.net_terms_send_invoice")
def _net_terms(a: Architecture) -> Outcome | None:
    i = a.invoicing
    if not i or not i.net_terms:
        return None
    if i.collection_method != "send_invoice" or not i.days_until_due:
        return bad("invoicing.net_terms = true",
                   f"invoicing.collection_method = {i.collection_method}",
                   f"invoicing.days_until_due = {i.days_until_due}")
    return ok()


@rule("invoicing.credit_notes_not_edits")
def _credit_notes(a: Architecture) -> Outcome | None:
    if not a.invoicing or a.invoicing.adjustments is None:
        return None
    adj = a.invoicing.adjustments
    return ok() if adj == "credit_notes" else bad(f"invoicing.adjustments = {adj}")


@rule("reporting.balance_transactions_source")
def _report_source(a: Architecture) -> Outcome | None:
    if not a.reporting or a.reporting.source is None:
        return None
    s = a.reporting.source
    return ok(f"reporting.source = {s}") if s in ("balance_transactions", "report_runs") \
        else bad(f"reporting.source = {s}")


@rule("reporting.payout_reconciliation")
def _payouts(a: Architecture) -> Outcome | None:
    return flag(a.reporting.payout_reconciliation, "reporting.payout_reconciliation") \
        if a.reporting else None


@rule("reporting.manual_payouts_tracking")
def _manual_payouts(a: Architecture) -> Outcome | None:
    r = a.reporting
    if not r or r.payouts != "manual":
        return None
    return flag(r.payout_reconciliation, "reporting.payout_reconciliation (manual payouts)")


@rule("migration.parallel_run")
def _parallel(a: Architecture) -> Outcome | None:
    return flag(a.migration.parallel_run, "migration.parallel_run") if a.migration else None


@rule("migration.billing_anchor_from_legacy")
def _anchor(a: Architecture) -> Outcome | None:
    m = a.migration
    if not m or m.billing_cycle_anchor is None:
        return None
    return ok() if m.billing_cycle_anchor == "legacy_period_end" else bad(
        f"migration.billing_cycle_anchor = {m.billing_cycle_anchor}")


@rule("migration.legacy_cancel_guard")
def _legacy_cancel(a: Architecture) -> Outcome | None:
    m = a.migration
    if not m or (m.legacy_cancel is None and m.double_billing_guard is None):
        return None
    if m.legacy_cancel != "same_step" or not m.double_billing_guard:
        return bad(f"migration.legacy_cancel = {m.legacy_cancel}",
                   f"migration.double_billing_guard = {m.double_billing_guard}")
    return ok()


@rule("migration.idempotent_import")
def _import(a: Architecture) -> Outcome | None:
    return flag(a.migration.idempotent_import, "migration.idempotent_import") \
        if a.migration else None
