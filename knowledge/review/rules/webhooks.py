"""Review rules: Webhook intake, signatures, ordering, delivery health."""

from __future__ import annotations

from knowledge.review.model import Architecture
from knowledge.review.rules import Outcome, bad, flag, ok, rule


# -- webhooks ------------------------------------------------------------------------------
@rule("webhook.signature_raw_body")
def _sig(a: Architecture) -> Outcome | None:
    s = a.webhooks.signature
    if s is None:
        return None
    return ok("webhooks.signature = raw_body") if s == "raw_body" else bad(
        f"webhooks.signature = {s}")


@rule("webhook.signature_tolerance")
def _tolerance(a: Architecture) -> Outcome | None:
    t = a.webhooks.tolerance_seconds
    if t is None:
        return None
    if t <= 0 or t > 300:
        return bad(f"webhooks.tolerance_seconds = {t} (default 300 s; 0 disables the check)")
    return ok(f"webhooks.tolerance_seconds = {t}")


@rule("webhook.secret_per_endpoint")
def _secrets(a: Architecture) -> Outcome | None:
    s = a.webhooks.secrets
    if s is None:
        return None
    return ok("webhooks.secrets = per_endpoint") if s == "per_endpoint" else bad(
        f"webhooks.secrets = {s}")


@rule("webhook.ack_fast_queue")
def _queue(a: Architecture) -> Outcome | None:
    p = a.webhooks.processing
    if p is None:
        return None
    return ok("webhooks.processing = queued") if p == "queued" else bad(
        f"webhooks.processing = {p}")


@rule("webhook.unknown_event_2xx")
def _unknown(a: Architecture) -> Outcome | None:
    u = a.webhooks.unknown_events
    if u is None:
        return None
    return ok("webhooks.unknown_events = 2xx") if u == "2xx" else bad(
        f"webhooks.unknown_events = {u}")


@rule("invoicing.invoice_created_2xx")
def _invoice_created(a: Architecture) -> Outcome | None:
    if "invoice.created" not in a.subscribed_events or a.webhooks.unknown_events is None:
        return None
    if a.webhooks.unknown_events == "error" or a.webhooks.processing == "inline":
        return bad("webhooks.endpoints[].events includes invoice.created",
                   f"webhooks.unknown_events = {a.webhooks.unknown_events}, "
                   f"webhooks.processing = {a.webhooks.processing}")
    return ok("invoice.created answered 2xx from a queued intake")


@rule("webhook.subscribe_minimal_events")
def _minimal(a: Architecture) -> Outcome | None:
    if not a.webhooks.endpoints:
        return None
    wild = [e.url for e in a.webhooks.endpoints if "*" in e.events]
    return bad(*(f"webhooks.endpoints[url={u}].events = ['*']" for u in wild)) if wild else ok()


@rule("webhook.dedupe_event_id")
def _dedupe(a: Architecture) -> Outcome | None:
    d = a.webhooks.dedupe
    if d is None:
        return None
    return ok("webhooks.dedupe = event_id_unique") if d == "event_id_unique" else bad(
        f"webhooks.dedupe = {d}")


@rule("webhook.side_effect_keyed_on_object")
def _keyed(a: Architecture) -> Outcome | None:
    k = a.webhooks.fulfilment_key
    if k is None:
        return None
    return ok("webhooks.fulfilment_key = object") if k == "object" else bad(
        f"webhooks.fulfilment_key = {k}")


@rule("webhook.refetch_before_write")
def _refetch(a: Architecture) -> Outcome | None:
    o = a.webhooks.ordering
    if o is None:
        return None
    return bad(f"webhooks.ordering = {o}") if o == "payload" else ok(f"webhooks.ordering = {o}")


@rule("webhook.delivery_alerting")
def _alerting(a: Architecture) -> Outcome | None:
    return flag(a.webhooks.alerting, "webhooks.alerting")


@rule("webhook.gap_replay_events_api")
def _replay(a: Architecture) -> Outcome | None:
    r = a.webhooks.replay
    if r is None:
        return None
    return ok("webhooks.replay = events_api") if r == "events_api" else bad(
        f"webhooks.replay = {r}")


@rule("webhook.daily_reconciliation")
def _recon(a: Architecture) -> Outcome | None:
    r = a.webhooks.reconciliation
    if r is None:
        return None
    return ok("webhooks.reconciliation = daily") if r == "daily" else bad(
        f"webhooks.reconciliation = {r}")


@rule("webhook.api_version_pinned")
def _version(a: Architecture) -> Outcome | None:
    pinned = a.stripe.sdk_api_version or a.stripe.api_version
    if not a.webhooks.endpoints or not pinned:
        return None
    wrong = [f"webhooks.endpoints[url={e.url}].api_version = {e.api_version or '(account default)'}"
             f" vs stripe.sdk_api_version = {pinned}"
             for e in a.webhooks.endpoints if e.api_version != pinned]
    return bad(*wrong) if wrong else ok(f"all endpoints on {pinned}")


@rule("ops.livemode_assertion")
def _livemode(a: Architecture) -> Outcome | None:
    return flag(a.webhooks.checks_livemode, "webhooks.checks_livemode")
