"""Webhook delivery and handling: signatures, ordering, duplicates, gaps, API versions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from tools.checks.context import CheckContext
from tools.checks.declare import check
from tools.checks.delivery import matches
from tools.checks.model import Check, Finding, Input

ALL = ("Payments", "Billing", "Checkout", "Connect")
_SIGNATURE_FAILURE_SHARE = 0.95
_MIN_ATTEMPTS = 10


_EVIDENCE: frozenset[Input] = frozenset({"pending", "export"})  # "was it acknowledged?"
_APPLIED: frozenset[Input] = frozenset({"processed", "export"})  # "when did it apply?"
_MIN_GAP = 5  # consecutive unacknowledged events that make an outage window
_TYPE_FAILING_SHARE = 0.5  # a type failing this often is a handler problem, not an outage


def _user_endpoints(ctx: CheckContext) -> list[dict]:
    return ctx.endpoints or [{"id": "?", "enabled_events": ["*"]}]


def _subscribed(ctx: CheckContext, endpoint: dict) -> list[dict]:
    """Settled events the endpoint subscribes to, sent after it existed."""
    since = endpoint.get("created") or 0
    return [ev for ev in ctx.events if ctx.delivery.settled(ev)
            and (ev.get("created") or 0) >= since
            and (endpoint["id"] == "?" or matches({**endpoint, "status": "enabled"},
                                                  ev.get("type") or ""))]


def _rejects_everything(ctx: CheckContext, endpoint: dict) -> tuple[list[dict], int] | None:
    """(unacknowledged events, events judged) when the endpoint took none of them."""
    judged = [(ev, ctx.delivery.failed(ev)) for ev in _subscribed(ctx, endpoint)]
    if "processed_log" in ctx.delivery.sources:
        # acknowledged but never logged says nothing (no endpoint yet, or another one took
        # it): with the handler's log, only what it logged counts as taken
        judged = [(ev, f) for ev, f in judged if f or ctx.delivery.logged(ev["id"])]
    judged = [(ev, f) for ev, f in judged if f is not None]
    if len(judged) < _MIN_ATTEMPTS:
        return None
    failed = [ev for ev, f in judged if f]
    if len(failed) / len(judged) < _SIGNATURE_FAILURE_SHARE:
        return None
    if any(ctx.delivery.logged(ev["id"]) for ev, _f in judged):
        return None
    return failed, len(judged)


@check("webhook.signature_raw_body", "FM-01", "Every delivery rejected (signature)",
       severity="critical", products=ALL, patterns=("webhook-signature-raw-body",),
       discrepancy_class="WEBHOOK_GAP", needs=frozenset({"events"}), needs_any=_EVIDENCE,
       fix="""Verify Stripe-Signature over the raw request bytes (no JSON parse/re-encode
       before construct_event) with the endpoint's own whsec_ secret, then resend the failed
       events from the Events API.""",
       systemic_fix="""A CI contract test posting a signed fixture with unusual whitespace and
       unicode; alert on any signature-failure rate above zero.""")
def signature_failures(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    for endpoint in _user_endpoints(ctx):
        found = _rejects_everything(ctx, endpoint)
        if found is None:
            continue
        failed, judged = found
        exported = [d for ev in failed for d in ctx.delivery.exported(ev["id"])
                    if d.status is not None]
        if exported and not any(d.status in (400, 401, 403) for d in exported):
            continue  # answered, but not with a rejection: not a signature problem
        if not exported and ctx.delivery.sources & {"export"} and any(
                ctx.delivery.exported(ev["id"]) for ev in failed):
            continue  # an attempt log that shows no answer at all: the endpoint is down
        sample = sorted(ev["id"] for ev in failed)[:50]
        objects = [((ctx.events_by_id.get(e) or {}).get("data") or {}).get("object", {})
                   .get("id") for e in sample]
        sent = sum(ctx.delivery.sent(e) for e in sample)
        yield c.finding(endpoint["id"], [endpoint["id"], *sample, *objects],
                        f"{len(failed)} of {judged} events sent to {endpoint['id']} were never "
                        "acknowledged and the app's processed-event log has none of them"
                        f"{f' (our receiver got {sent} of the sample)' if sent else ''}: the "
                        "handler rejects every delivery (signature checked over a parsed body "
                        "or with the wrong secret).",
                        details={"share": round(len(failed) / judged, 3),
                                 "events": len(failed),
                                 "sources": ctx.delivery.label("events_api", "processed_log",
                                                               "fde_receiver", "export")})


_STATEFUL = (("subscription", "subscription"), ("invoice", "invoice"),
             ("payment", "payment_intent"))


@check("webhook.monotonic_state", "FM-02", "Older event snapshot overwrote newer state",
       severity="high", products=("Billing", "Payments", "Checkout"),
       patterns=("webhook-ordering-refetch",), discrepancy_class="STATE_REGRESSION",
       needs=frozenset({"stripe", "events", "local"}), needs_any=_APPLIED,
       fix="Re-fetch the object from Stripe and overwrite the local row.",
       systemic_fix="""Treat events as triggers: re-fetch before writing, or keep an
       event.created watermark per row and ignore older snapshots; terminal states are
       final.""")
def state_regression(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    for entity, otype in _STATEFUL:
        for row, obj in ctx.iter_local_with_stripe(entity, otype):
            local, current = row.get("status"), obj.get("status")
            if local is None or ctx.same(entity, "status", row, current):
                continue
            applied = ctx.delivery.applied_in_order(ctx.events_for(obj["id"]))
            if len(applied) < 2:
                continue
            last_at, last = applied[-1]
            last_status = last["data"]["object"].get("status")
            newer = [ev for _at, ev in applied[:-1]
                     if ctx.position(ev["id"]) > ctx.position(last["id"])
                     and ev["data"]["object"].get("status") == current]
            if last_status in ctx.words(entity, "status", local) and newer:
                yield c.finding(obj["id"], [obj["id"], last["id"], newer[-1]["id"]],
                                f"{otype} {obj['id']} is {current!r} in Stripe but {local!r} "
                                f"locally: {last['type']} ({last['id']}) was applied last and "
                                f"its older snapshot overwrote {newer[-1]['id']}.",
                                details={"local": local, "stripe": current,
                                         "sources": ctx.delivery.label("processed_log",
                                                                       "export")})


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
       discrepancy_class="WEBHOOK_GAP", needs=frozenset({"events"}), needs_any=_EVIDENCE,
       fix="""Replay the missing events from /v1/events (created window, types) into the
       idempotent handler, or re-derive state by listing the objects; re-enable the
       endpoint.""",
       systemic_fix="""Alert on delivery failures well inside the 3-day retry window and run a
       daily reconciliation that does not depend on webhooks.""")
def delivery_gap(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    """A window of consecutive events (all types) that Stripe gave up delivering while the
    endpoint took events before or after it. Types that fail on their own most of the time
    (a handler answering one type with errors) neither make nor break a window."""
    for endpoint in _user_endpoints(ctx):
        exported = "export" in ctx.delivery.sources
        if not exported and _rejects_everything(ctx, endpoint) is not None:
            continue  # nothing ever got through: FM-01's to report (an export could tell)
        events = [ev for ev in _subscribed(ctx, endpoint) if ctx.delivery.given_up(ev)]
        state = {ev["id"]: ctx.delivery.failed(ev) for ev in events}
        per_type: dict[str, list[bool]] = defaultdict(list)
        for ev in events:
            if state[ev["id"]] is not None:
                per_type[ev["type"]].append(bool(state[ev["id"]]))
        steady = {t for t, fs in per_type.items() if sum(fs) / len(fs) >= _TYPE_FAILING_SHARE}
        runs: list[list[dict]] = [[]]
        for ev in events:
            down = _unreachable(ctx, ev)  # an export answers directly
            if down is None:
                if ev["type"] in steady or state[ev["id"]] is None:
                    continue
                down = bool(state[ev["id"]])
            if down:
                runs[-1].append(ev)
            elif runs[-1]:
                runs.append([])
        for missing in runs:
            if len(missing) < _MIN_GAP or len({e["type"] for e in missing}) < 2:
                continue
            t1, t2 = missing[0]["created"], missing[-1]["created"]
            objects = sorted({(e["data"]["object"] or {}).get("id") for e in missing} - {None})
            yield c.finding(f"gap:{t1}", [*(e["id"] for e in missing), *objects],
                            f"{len(missing)} events created between {t1} and {t2} were never "
                            f"acknowledged by {endpoint['id']} and Stripe's retries are over "
                            f"(the endpoint was unreachable); {len(objects)} objects may be "
                            "missing or stale locally.",
                            details={"t1": t1, "t2": t2, "events": len(missing),
                                     "sources": ctx.delivery.label("events_api",
                                                                   "processed_log", "export")})


def _unreachable(ctx: CheckContext, ev: dict) -> bool | None:
    """From an attempt export: no attempt got an HTTP answer and not all merely timed out
    (None: no exported attempts for this event)."""
    attempts = ctx.delivery.exported(ev["id"])
    if not attempts:
        return None
    return (all(d.status is None for d in attempts)
            and any(d.error != "timeout" for d in attempts))


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
