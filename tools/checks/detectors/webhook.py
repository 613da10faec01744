"""Webhook delivery and handling: signatures, ordering, duplicates, gaps, API versions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from tools.checks.context import CheckContext, Delivery
from tools.checks.declare import check
from tools.checks.model import Check, Finding

ALL = ("Payments", "Billing", "Checkout", "Connect")
_SIGNATURE_FAILURE_SHARE = 0.95
_MIN_ATTEMPTS = 10


def _by_endpoint(ctx: CheckContext) -> dict[str, list[Delivery]]:
    out: dict[str, list[Delivery]] = defaultdict(list)
    for d in ctx.deliveries:
        out[d.endpoint_id or "?"].append(d)
    return out


@check("webhook.signature_raw_body", "FM-01", "Every delivery rejected (signature)",
       severity="critical", products=ALL, patterns=("webhook-signature-raw-body",),
       discrepancy_class="WEBHOOK_GAP", needs=frozenset({"deliveries"}),
       fix="""Verify Stripe-Signature over the raw request bytes (no JSON parse/re-encode
       before construct_event) with the endpoint's own whsec_ secret, then resend the failed
       events from the Events API.""",
       systemic_fix="""A CI contract test posting a signed fixture with unusual whitespace and
       unicode; alert on any signature-failure rate above zero.""")
def signature_failures(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    for endpoint, attempts in _by_endpoint(ctx).items():
        answered = [d for d in attempts if d.status is not None]
        if len(answered) < _MIN_ATTEMPTS:
            continue
        rejected = [d for d in answered if d.status in (400, 401, 403)]
        share = len(rejected) / len(answered)
        if share >= _SIGNATURE_FAILURE_SHARE and not any(d.ok for d in answered):
            sample = sorted({d.event_id for d in rejected})
            objects = [((ctx.events_by_id.get(e) or {}).get("data") or {}).get("object", {})
                       .get("id") for e in sample[:50]]
            yield c.finding(endpoint, [endpoint, *sample[:50], *objects],
                            f"{len(rejected)} of {len(answered)} answered deliveries to "
                            f"{endpoint} were rejected with HTTP 4xx and none succeeded: the "
                            "handler fails signature verification (parsed body or wrong "
                            "secret).", details={"share": round(share, 3),
                                                 "events": len(sample)})


_STATEFUL = (("subscription", "subscription"), ("invoice", "invoice"),
             ("payment", "payment_intent"))


@check("webhook.monotonic_state", "FM-02", "Older event snapshot overwrote newer state",
       severity="high", products=("Billing", "Payments", "Checkout"),
       patterns=("webhook-ordering-refetch",), discrepancy_class="STATE_REGRESSION",
       needs=frozenset({"stripe", "events", "deliveries", "local"}),
       fix="Re-fetch the object from Stripe and overwrite the local row.",
       systemic_fix="""Treat events as triggers: re-fetch before writing, or keep an
       event.created watermark per row and ignore older snapshots; terminal states are
       final.""")
def state_regression(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    for entity, otype in _STATEFUL:
        for row, obj in ctx.iter_local_with_stripe(entity, otype):
            local, current = row.get("status"), obj.get("status")
            if local is None or local == current:
                continue
            applied: list[tuple[int, dict]] = []
            for ev in ctx.events_for(obj["id"]):
                ok = ctx.first_ok(ev["id"])
                if ok is not None and _outcome(ctx, ev["id"]) in ("applied", None):
                    applied.append((max(d.at for d in ctx.ok_deliveries(ev["id"])), ev))
            if len(applied) < 2:
                continue
            applied.sort(key=lambda p: p[0])
            last_at, last = applied[-1]
            last_status = last["data"]["object"].get("status")
            newer = [ev for _at, ev in applied[:-1]
                     if ctx.position(ev["id"]) > ctx.position(last["id"])
                     and ev["data"]["object"].get("status") == current]
            if last_status == local and newer:
                yield c.finding(obj["id"], [obj["id"], last["id"], newer[-1]["id"]],
                                f"{otype} {obj['id']} is {current!r} in Stripe but {local!r} "
                                f"locally: {last['type']} ({last['id']}) arrived last and its "
                                f"older snapshot overwrote {newer[-1]['id']}.",
                                details={"local": local, "stripe": current})


def _outcome(ctx: CheckContext, event_id: str) -> str | None:
    """The user's processed-events log: applied | stale | ignored (None: not logged)."""
    row = ctx.row("processed_event", event_id)
    return row.get("outcome") if row else None


@check("webhook.side_effect_keyed_on_object", "FM-03", "One payment fulfilled twice",
       severity="high", products=("Payments", "Billing", "Checkout"),
       patterns=("webhook-idempotent-processing",), discrepancy_class="DUPLICATE_LOCAL_EFFECT",
       needs=frozenset({"local"}),
       fix="Deactivate the duplicate entitlement rows (keep the first grant).",
       systemic_fix="""Record processed event ids under a unique constraint in the same
       transaction as the effect, and key fulfilment on the Stripe object (one effect per
       payment and feature).""")
def duplicate_effects(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in ctx.rows("entitlement"):
        if r.get("active") and r.get("source_id"):
            groups[(r["source_id"], r.get("feature") or "")].append(r)
    for (source, feature), rows in groups.items():
        if len(rows) > 1:
            yield c.finding(f"{source}:{feature}",
                            [source, *(r.get("local_key") for r in rows)],
                            f"{len(rows)} active {feature!r} entitlements for {source}: a "
                            "redelivered event was applied again.",
                            details={"rows": len(rows)})


@check("webhook.delivery_alerting", "FM-04", "Events never delivered (endpoint down)",
       severity="high", products=ALL, patterns=("webhook-gap-recovery",),
       discrepancy_class="WEBHOOK_GAP",
       needs=frozenset({"events", "deliveries"}),
       fix="""Replay the missing events from /v1/events (created window, types) into the
       idempotent handler, or re-derive state by listing the objects; re-enable the
       endpoint.""",
       systemic_fix="""Alert on delivery failures well inside the 3-day retry window and run a
       daily reconciliation that does not depend on webhooks.""")
def delivery_gap(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    horizon = ctx.now - ctx.profile.grace_seconds
    missing: list[dict] = []
    for ev in ctx.events:
        attempts = ctx.attempts(ev["id"])
        if not attempts or ev["created"] > horizon:
            continue
        # unreachable endpoint: no attempt got an HTTP answer, and retries are over
        if (all(d.status is None for d in attempts)
                and any(d.error != "timeout" for d in attempts)
                and attempts[-1].at + ctx.profile.retry_window_seconds <= ctx.now):
            missing.append(ev)
    if not missing:
        return
    t1 = min(e["created"] for e in missing)
    t2 = max(e["created"] for e in missing)
    objects = sorted({(e["data"]["object"] or {}).get("id") for e in missing} - {None})
    yield c.finding(f"gap:{t1}", [*(e["id"] for e in missing), *objects],
                    f"{len(missing)} events created between {t1} and {t2} were never "
                    f"delivered (the endpoint was unreachable); {len(objects)} objects may be "
                    "missing or stale locally.",
                    details={"t1": t1, "t2": t2, "events": len(missing)})


@check("webhook.api_version_pinned", "FM-05", "Endpoint API version differs from the code's",
       severity="high", products=ALL, patterns=("webhook-api-version-upgrade",),
       discrepancy_class="ENV_MISMATCH", needs=frozenset(),
       fix="""Pin the endpoint and the SDK to the same API version (a second endpoint on the
       new version, deploy code that accepts both, then disable the old one); resync the rows
       written from old-shape payloads.""",
       systemic_fix="A start-up assertion comparing each endpoint's api_version with the SDK's.")
def api_version_mismatch(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    pinned = ctx.profile.api_version
    if "inbox" in ctx.available:  # what our receiver got, as rendered for its endpoint
        seen: dict[str, list[str]] = defaultdict(list)
        for ev in ctx.events:
            if ev.get("api_version") and ev["api_version"] != pinned:
                seen[ev["api_version"]].append(ev["id"])
        for version, ids in seen.items():
            yield c.finding(f"received:{version}", ids[:50],
                            f"{len(ids)} received events are rendered in {version}; the code "
                            f"is pinned to {pinned}.",
                            details={"endpoint_version": version, "pinned": pinned})
    if "stripe" not in ctx.available:
        return
    for ep in ctx.endpoints:
        version = ep.get("api_version")
        if not version or version == pinned:
            continue
        affected = _old_shape_rows(ctx)
        yield c.finding(ep["id"], [ep["id"], *affected],
                        f"endpoint {ep['id']} renders events in {version} but the code is "
                        f"pinned to {pinned}; {len(affected)} local rows miss fields that "
                        "moved between the versions.",
                        details={"endpoint_version": version, "pinned": pinned})


def _old_shape_rows(ctx: CheckContext) -> list[str]:
    out = []
    for row, obj in ctx.iter_local_with_stripe("subscription", "subscription"):
        items = (obj.get("items") or {}).get("data") or []
        if row.get("current_period_end") is None and items and items[0].get(
                "current_period_end"):
            out.append(obj["id"])
    for row, obj in ctx.iter_local_with_stripe("invoice", "invoice"):
        parent = ((obj.get("parent") or {}).get("subscription_details") or {})
        if row.get("subscription") is None and parent.get("subscription"):
            out.append(obj["id"])
    return sorted(out)


@check("webhook.handled_events_enabled", "FM-04", "Handled event type no longer delivered",
       severity="high", products=ALL, patterns=("webhook-gap-recovery",
                                                "webhook-queue-then-process"),
       discrepancy_class="WEBHOOK_GAP", needs=frozenset({"stripe"}),
       fix="""Re-enable the endpoint / add the event type back to its enabled_events, then
       replay the events created meanwhile from /v1/events.""",
       systemic_fix="""Manage endpoints as code (enabled events derived from the handlers) and
       alert when an endpoint is disabled or its event list shrinks.""")
def handled_not_enabled(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    handled = set(ctx.profile.handlers)
    handled |= {r.get("type") for r in ctx.rows("processed_event")
                if r.get("outcome") == "applied" and r.get("type")}
    if not handled or not ctx.endpoints:
        return
    enabled: set[str] = set()
    for ep in ctx.endpoints:
        if ep.get("status", "enabled") == "enabled":
            enabled |= set(ep.get("enabled_events") or [])
    if "*" in enabled:
        return
    for etype in sorted(handled - enabled):
        yield c.finding(f"type:{etype}", [etype, *(ep["id"] for ep in ctx.endpoints)],
                        f"the app handles {etype} but no enabled endpoint subscribes to it: "
                        "those events are no longer delivered.", details={"event_type": etype})


CHECKS = [signature_failures, state_regression, duplicate_effects, delivery_gap,
          api_version_mismatch, handled_not_enabled]
