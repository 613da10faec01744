"""Review rules: Checkout, local payment methods, refunds, disputes, Connect."""

from __future__ import annotations

from knowledge.review.model import Architecture
from knowledge.review.rules import ASYNC, DEBITS, VOUCHERS, Outcome, bad, flag, ok, rule


# -- payments, checkout, local methods -----------------------------------------------------
@rule("checkout.fulfil_on_webhook")
def _fulfil(a: Architecture) -> Outcome | None:
    if not a.payments or a.payments.fulfilment_trigger is None:
        return None
    t = a.payments.fulfilment_trigger
    return bad("payments.fulfilment_trigger = success_url") if t == "success_url" else ok(
        f"payments.fulfilment_trigger = {t}")


@rule("checkout.payment_status_checked")
def _payment_status(a: Architecture) -> Outcome | None:
    return flag(a.payments.checks_payment_status, "payments.checks_payment_status") \
        if a.payments else None


@rule("checkout.async_payment_events")
def _async(a: Architecture) -> Outcome | None:
    p = a.payments
    if not p or not (set(p.methods) & ASYNC) or "checkout_session" not in a.stripe.objects:
        return None
    needed = {"checkout.session.async_payment_succeeded", "checkout.session.async_payment_failed"}
    missing = sorted(needed - a.subscribed_events)
    if missing or p.async_payment_events is False:
        return bad(f"payments.methods = {p.methods}",
                   f"webhook events missing: {missing}" if missing
                   else "payments.async_payment_events = false")
    return ok()


@rule("checkout.per_country_eligibility")
def _eligibility(a: Architecture) -> Outcome | None:
    p = a.payments
    if not p or not p.methods or p.checkout_mode is None:
        return None
    vouchers = sorted(set(p.methods) & VOUCHERS)
    if vouchers and p.checkout_mode == "subscription":
        return bad(f"payments.methods = {p.methods}", "payments.checkout_mode = subscription")
    return ok()


@rule("lpm.voucher_one_time_only")
def _voucher_mode(a: Architecture) -> Outcome | None:
    p = a.payments
    if not p or not (set(p.methods) & VOUCHERS) or p.checkout_mode is None:
        return None
    return bad(f"payments.methods include {sorted(set(p.methods) & VOUCHERS)}",
               "payments.checkout_mode = subscription") \
        if p.checkout_mode == "subscription" else ok()


@rule("lpm.voucher_expiry_handled")
def _voucher_expiry(a: Architecture) -> Outcome | None:
    p = a.payments
    if not p or not (set(p.methods) & VOUCHERS):
        return None
    return flag(p.voucher_expiry_handled, "payments.voucher_expiry_handled")


@rule("lpm.fulfil_on_succeeded_not_processing")
def _debit_fulfil(a: Architecture) -> Outcome | None:
    p = a.payments
    if not p or not (set(p.methods) & DEBITS) or p.fulfilment_trigger is None:
        return None
    if p.fulfilment_trigger in ("success_url", "checkout_session_completed") and \
            not p.checks_payment_status:
        return bad(f"payments.methods include {sorted(set(p.methods) & DEBITS)}",
                   f"payments.fulfilment_trigger = {p.fulfilment_trigger}")
    return ok()


@rule("lpm.delayed_failure_reversal")
def _delayed(a: Architecture) -> Outcome | None:
    p = a.payments
    if not p or not (set(p.methods) & DEBITS):
        return None
    return flag(p.handles_delayed_failure, "payments.handles_delayed_failure")


@rule("lpm.cash_balance_reconciliation")
def _cash(a: Architecture) -> Outcome | None:
    p = a.payments
    if not p or "customer_balance" not in p.methods:
        return None
    return flag(p.cash_balance_reconciled, "payments.cash_balance_reconciled")


@rule("payments.refund_failure_handled")
def _refund(a: Architecture) -> Outcome | None:
    return flag(a.payments.refund_failure_handled, "payments.refund_failure_handled") \
        if a.payments else None


@rule("payments.dispute_events_handled")
def _disputes(a: Architecture) -> Outcome | None:
    return flag(a.payments.disputes_handled, "payments.disputes_handled") \
        if a.payments else None


@rule("payments.dispute_deadline_queue")
def _dispute_queue(a: Architecture) -> Outcome | None:
    return flag(a.payments.dispute_queue, "payments.dispute_queue") if a.payments else None


# -- connect -------------------------------------------------------------------------------
@rule("connect.stripe_account_header")
def _header(a: Architecture) -> Outcome | None:
    c = a.connect
    if not c or c.stripe_account_header is None:
        return None
    if c.charge_type == "direct" and c.stripe_account_header != "all_calls":
        return bad("connect.charge_type = direct",
                   f"connect.stripe_account_header = {c.stripe_account_header}")
    if c.stripe_account_header == "none" and c.charge_type is None:
        return bad("connect.stripe_account_header = none")
    return ok(f"connect.stripe_account_header = {c.stripe_account_header}")


@rule("connect.account_id_stored")
def _account_stored(a: Architecture) -> Outcome | None:
    return flag(a.connect.stores_account_id, "connect.stores_account_id") \
        if a.connect else None


@rule("connect.event_account_routing")
def _event_account(a: Architecture) -> Outcome | None:
    if not a.connect:
        return None
    return flag(a.connect.routes_by_event_account, "connect.routes_by_event_account")


@rule("connect.connect_endpoint_separate")
def _connect_endpoint(a: Architecture) -> Outcome | None:
    if not a.connect or not a.webhooks.endpoints:
        return None
    if not any(e.connect for e in a.webhooks.endpoints):
        return bad("connect section present but no webhooks.endpoints[].connect = true")
    return ok()


@rule("connect.charge_type_fits_model")
def _charge_type(a: Architecture) -> Outcome | None:
    if not a.connect or a.connect.charge_type is None:
        return None
    return flag(a.connect.charge_type_documented, "connect.charge_type_documented")
