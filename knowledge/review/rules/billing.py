"""Review rules: Subscriptions, metering, catalogue and currency."""

from __future__ import annotations

from knowledge.review.model import Architecture
from knowledge.review.rules import ZERO_OR_THREE_DECIMAL, Outcome, bad, flag, ok, rule


# -- billing -------------------------------------------------------------------------------
@rule("billing.entitlement_from_status")
def _entitlement(a: Architecture) -> Outcome | None:
    if not a.billing or a.billing.entitlements_from is None:
        return None
    e = a.billing.entitlements_from
    return ok("billing.entitlements_from = subscription_status") \
        if e == "subscription_status" else bad(f"billing.entitlements_from = {e}")


@rule("billing.provision_on_active_not_created")
def _provision(a: Architecture) -> Outcome | None:
    if not a.billing or a.billing.entitlements_from is None:
        return None
    if a.billing.entitlements_from == "subscription_created" or \
            "incomplete" in a.billing.access_statuses:
        return bad(f"billing.entitlements_from = {a.billing.entitlements_from}",
                   f"billing.access_statuses = {a.billing.access_statuses}")
    return ok()


@rule("billing.dunning_end_state_handled")
def _dunning(a: Architecture) -> Outcome | None:
    b = a.billing
    if not b or b.dunning_end_state is None or not b.revokes_on:
        return None
    needs = {"canceled": "customer.subscription.deleted",
             "unpaid": "customer.subscription.updated",
             "past_due": "customer.subscription.updated"}[b.dunning_end_state]
    if needs not in b.revokes_on:
        return bad(f"billing.dunning_end_state = {b.dunning_end_state}",
                   f"billing.revokes_on = {b.revokes_on} (the end state arrives as {needs})")
    return ok()


@rule("billing.retry_payment_method_subscription_default")
def _card_update(a: Architecture) -> Outcome | None:
    if not a.billing or a.billing.card_update_sets is None:
        return None
    c = a.billing.card_update_sets
    return ok() if c == "subscription_default" else bad(f"billing.card_update_sets = {c}")


@rule("billing.proration_behavior_explicit")
def _proration(a: Architecture) -> Outcome | None:
    if not a.billing or a.billing.proration_behavior is None:
        return None
    p = a.billing.proration_behavior
    return bad("billing.proration_behavior = default") if p == "default" else ok(
        f"billing.proration_behavior = {p}")


@rule("billing.preview_before_change")
def _preview(a: Architecture) -> Outcome | None:
    return flag(a.billing.invoice_preview, "billing.invoice_preview") if a.billing else None


@rule("billing.seat_updates_batched")
def _seats(a: Architecture) -> Outcome | None:
    if not a.billing or a.billing.seat_updates is None:
        return None
    s = a.billing.seat_updates
    return ok() if s == "batched" else bad(f"billing.seat_updates = {s}")


@rule("billing.trial_missing_pm_explicit")
def _trial(a: Architecture) -> Outcome | None:
    if not a.billing or not a.billing.trials:
        return None
    t = a.billing.trial_missing_payment_method
    return bad(f"billing.trial_missing_payment_method = {t or '(unset)'}") \
        if t in (None, "default") else ok(f"billing.trial_missing_payment_method = {t}")


@rule("billing.portal_events_handled")
def _portal(a: Architecture) -> Outcome | None:
    if not a.billing or not a.billing.portal:
        return None
    return flag(a.billing.portal_events_handled, "billing.portal_events_handled")


@rule("billing.incomplete_expiry_handled")
def _incomplete(a: Architecture) -> Outcome | None:
    if not a.billing:
        return None
    return flag(a.billing.handles_incomplete_expired, "billing.handles_incomplete_expired")


@rule("billing.sca_off_session_recovery")
def _sca(a: Architecture) -> Outcome | None:
    if not a.billing:
        return None
    return flag(a.billing.off_session_recovery, "billing.off_session_recovery")


# -- metering ------------------------------------------------------------------------------
@rule("metering.identifier_deterministic")
def _identifier(a: Architecture) -> Outcome | None:
    if not a.metering or a.metering.identifier is None:
        return None
    i = a.metering.identifier
    return ok() if i == "deterministic" else bad(f"metering.identifier = {i}")


@rule("metering.aggregation_matches_payload")
def _aggregation(a: Architecture) -> Outcome | None:
    m = a.metering
    if not m or m.aggregation is None or m.sends is None:
        return None
    fits = {"sum": {"deltas"}, "count": {"occurrences"}, "last": {"gauge", "totals"}}
    if m.sends in fits[m.aggregation]:
        return ok(f"metering.aggregation = {m.aggregation}, metering.sends = {m.sends}")
    return bad(f"metering.aggregation = {m.aggregation}", f"metering.sends = {m.sends}")


@rule("metering.late_usage_policy")
def _late(a: Architecture) -> Outcome | None:
    m = a.metering
    if not m or (m.max_delay_minutes is None and m.late_usage is None):
        return None
    if m.late_usage == "next_invoice_adjustment":
        return ok("metering.late_usage = next_invoice_adjustment")
    if m.max_delay_minutes is not None and m.max_delay_minutes < 60:
        return ok(f"metering.max_delay_minutes = {m.max_delay_minutes} (< 1 h grace window)")
    return bad(f"metering.max_delay_minutes = {m.max_delay_minutes}",
               f"metering.late_usage = {m.late_usage}")


@rule("metering.timestamp_window")
def _timestamps(a: Architecture) -> Outcome | None:
    return flag(a.metering.validates_timestamps, "metering.validates_timestamps") \
        if a.metering else None


@rule("metering.throughput_batching")
def _throughput(a: Architecture) -> Outcome | None:
    m = a.metering
    if not m:
        return None
    peak = m.peak_events_per_second or a.volumes.meter_events_per_second
    if peak is None:
        return None
    if peak > 500 and not m.batching:
        return bad(f"metering.peak_events_per_second = {peak}", "metering.batching = false "
                   "(v1 meter events are limited to about 1,000 calls/s in live mode)")
    return ok(f"peak {peak}/s, batching = {m.batching}")


@rule("metering.usage_reconciliation")
def _usage_recon(a: Architecture) -> Outcome | None:
    return flag(a.metering.reconciles_usage, "metering.reconciles_usage") \
        if a.metering else None


# -- catalog and currency ------------------------------------------------------------------
@rule("catalog.lookup_keys_not_ids")
def _lookup(a: Architecture) -> Outcome | None:
    if not a.catalog or a.catalog.price_reference is None:
        return None
    r = a.catalog.price_reference
    return ok() if r == "lookup_key" else bad(f"catalog.price_reference = {r}")


@rule("catalog.lookup_active_only")
def _active(a: Architecture) -> Outcome | None:
    if not a.catalog or a.catalog.price_reference != "lookup_key":
        return None
    return flag(a.catalog.lookup_active_only, "catalog.lookup_active_only")


@rule("catalog.as_code_test_live")
def _as_code(a: Architecture) -> Outcome | None:
    return flag(a.catalog.as_code, "catalog.as_code") if a.catalog else None


@rule("currency.minor_units_table")
def _minor(a: Architecture) -> Outcome | None:
    if not a.payments or a.payments.amount_conversion is None:
        return None
    c = a.payments.amount_conversion
    if c == "times_100":
        special = sorted(set(a.currencies) & ZERO_OR_THREE_DECIMAL)
        return bad("payments.amount_conversion = times_100",
                   f"currencies = {a.currencies}" + (f" (not ×100: {special})" if special else ""))
    return ok("payments.amount_conversion = currency_table")


@rule("currency.currency_options_prices")
def _currency_options(a: Architecture) -> Outcome | None:
    if not a.countries or not a.currencies:
        return None
    local = {"DE": "eur", "FR": "eur", "NL": "eur", "ES": "eur", "IT": "eur", "MX": "mxn",
             "BR": "brl", "JP": "jpy", "GB": "gbp", "US": "usd", "CA": "cad", "AU": "aud"}
    missing = sorted({f"{c}→{local[c]}" for c in a.countries
                      if c in local and local[c] not in a.currencies})
    return bad(f"countries = {a.countries}", f"currencies = {a.currencies}",
               f"no local currency for {missing}") if missing else ok()
