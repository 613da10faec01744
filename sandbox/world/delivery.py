"""The delivery simulation: every generated event delivered to the company's endpoint the way
Stripe would, every attempt recorded in the replica's ``deliveries`` table, and the company's
`apply_event` run for each attempt that reaches the handler, in delivery order.

Normal noise (any world): a few first attempts time out before the handler ran (retried an
hour later, so they arrive after newer events) and a few time out after it ran (the retry is
a duplicate; one fulfilment answer in three, the slow branch). A correct handler absorbs
both. Non-2xx answers are retried on `RETRY_AFTER` (Stripe live mode: up to three days),
then given up.

History-layer switches bend the deliveries:

    FM-04  the endpoint is down from day 40 to day 45 and was disabled meanwhile: every event
           created in that window gets one failed attempt and no retry
    FM-05  payloads are rendered in the endpoint's older API version (versioning.py)
    FM-25  events before go-live (day 3) are not delivered; a backfill loaded half of the
           objects they were about (`_backfill`)
    FM-01  (handler layer, played here) every attempt answers 400: the signature is checked
           over re-serialised JSON, which never matches
"""

from __future__ import annotations

import heapq
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from sandbox.bugs import handler_bugs
from sandbox.usersys.context import Ctx, HandlerOutcome
from sandbox.usersys.handler import apply_event, route
from sandbox.world.config import DAY
from sandbox.world.state import World
from sandbox.world.versioning import render

Obj = dict[str, Any]
RETRY_AFTER = (3600, 6 * 3600, 24 * 3600, 48 * 3600)  # within Stripe's three days
LOST_BEFORE = 0.03  # first attempt timed out before the handler ran
LOST_AFTER = 0.015  # handler ran, the answer was lost: the retry is a duplicate
# Fulfilment is the slow branch (provisioning, emails): its answers time out more often.
FULFILMENT = frozenset({"payment_intent.succeeded", "checkout.session.completed",
                        "checkout.session.async_payment_succeeded"})
SLOW_FULFILMENT_EVERY = 3  # one fulfilment answer in this many arrives after the timeout
OUTAGE_DAYS = (40, 45)  # FM-04
BACKFILL_DAYS, BACKFILL_SHARE = 3, 0.5  # FM-25: go-live day; share the backfill loaded


@dataclass
class DeliveryResult:
    attempts: int = 0
    applied: int = 0
    bug_hits: dict[str, list[Obj]] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)  # FM-04 event ids
    dropped_objects: set[str] = field(default_factory=set)
    rendered_old: set[str] = field(default_factory=set)  # FM-05 object ids


def _events(world: World) -> Iterator[Obj]:
    # Bulk history events (bulk/) got their deliveries and company rows when loaded.
    lo, hi = world.history.event_seqs if world.history else (0, -1)
    for (data,) in world.api.store.conn.execute(
            "SELECT data FROM events WHERE seq NOT BETWEEN ? AND ? ORDER BY created, seq",
            (lo, hi)):
        yield json.loads(data)


def world_time(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class _Clock:
    """The world time the company's code runs at (rows' created_at/updated_at read it)."""

    def __init__(self) -> None:
        self.now = world_time(0)


def install_clock(session: Session, clock: _Clock) -> None:
    """Stamp ORM rows with world time instead of the wall clock (deterministic DBs)."""

    @sa_event.listens_for(session, "before_flush")
    def _stamp(sess: Session, _ctx: Any, _instances: Any) -> None:
        for obj in sess.new:
            if hasattr(obj, "created_at"):
                obj.created_at = clock.now
            if hasattr(obj, "updated_at"):
                obj.updated_at = clock.now
        for obj in sess.dirty:
            if hasattr(obj, "updated_at"):
                obj.updated_at = clock.now
                # An unchanged value would leave the column out of the UPDATE and let the
                # model's onupdate stamp the wall clock.
                flag_modified(obj, "updated_at")


def _backfill(world: World, session: Session, clock: _Clock, before: list[Obj],
              result: DeliveryResult) -> None:
    """FM-25: the handler went live on day `BACKFILL_DAYS`; what existed before was loaded by
    a backfill (the objects' state at go-live, written by the handler's own code) that died
    on 429 after the first `BACKFILL_SHARE` of them, by created, with no cursor to resume."""
    latest: dict[str, Obj] = {}
    for ev in before:
        obj = ev["data"]["object"] or {}
        if obj.get("id") and route(ev["type"]) is not None:
            latest[obj["id"]] = ev
    ordered = sorted(latest.values(), key=lambda e: (e["data"]["object"].get("created") or 0,
                                                     e["data"]["object"]["id"]))
    cut = int(len(ordered) * BACKFILL_SHARE)
    clock.now = world_time(world.start + BACKFILL_DAYS * DAY)
    for ev in ordered[:cut]:
        outcome = HandlerOutcome(event_id=ev["id"], event_type=ev["type"])
        route(ev["type"])(Ctx(session=session, event=ev, bugs=frozenset(), now=clock.now,
                              outcome=outcome))  # type: ignore[misc]
        session.commit()
    for ev in ordered[cut:]:
        result.bug_hits.setdefault("FM-25", []).append(
            {"object_id": ev["data"]["object"]["id"], "event_id": None,
             "how": "created before go-live; the backfill died before reaching it"})


def deliver_all(world: World, session: Session, clock: _Clock, *,
                bugs: frozenset[str] | None = None, record: bool = True) -> DeliveryResult:
    """Deliver every event; `bugs` overrides the world's switches (the shadow run passes
    none), `record=False` leaves the replica's delivery log alone."""
    result = DeliveryResult()
    switches = world.config.bugs if bugs is None else bugs
    # FM-05 acts in delivery (old-shape payloads) and in the handler (reads the new shape only).
    bugs = handler_bugs(switches) | (frozenset({"FM-05"}) & frozenset(switches))
    rng = random.Random(world.config.seed * 7919 + 17)
    endpoint = world.endpoint
    old_version = endpoint.get("api_version") if "FM-05" in switches else None
    t1, t2 = (world.start + OUTAGE_DAYS[0] * DAY, world.start + OUTAGE_DAYS[1] * DAY)
    outage = "FM-04" in switches
    store = world.api.store
    events = list(_events(world))
    queue: list[tuple[int, int, int, int]] = []  # (at, tiebreak, event index, attempt)
    served: set[int] = set()  # events no endpoint is waiting for (pending_webhooks 0)
    go_live = world.start + BACKFILL_DAYS * DAY if "FM-25" in switches else None
    if go_live is not None:
        _backfill(world, session, clock, [e for e in events if e["created"] < go_live], result)
    for i, ev in enumerate(events):
        delay = 1 + rng.randrange(4)
        if go_live is None or ev["created"] >= go_live:
            heapq.heappush(queue, (ev["created"] + delay, i, i, 1))
        else:  # FM-25: no endpoint existed yet, so Stripe counted none for this event
            served.add(i)
    fulfilments = 0
    rows: list[tuple] = []
    n = len(events)
    while queue:
        at, _tie, i, attempt = heapq.heappop(queue)
        ev = events[i]
        obj_id = (ev["data"]["object"] or {}).get("id")
        status: int | None = 200
        error: str | None = None
        latency = 40 + rng.randrange(260)
        apply = True
        retry = False
        if outage and t1 <= at <= t2:
            status, error, apply, latency = None, "connection refused (endpoint down)", False, 0
            retry = not (t1 <= ev["created"] <= t2)  # disabled: window events never retried
            if not retry:
                result.dropped.append(ev["id"])
                if obj_id:
                    result.dropped_objects.add(obj_id)
        elif "FM-01" in bugs:
            status, error, apply, retry = 400, "HTTP 400", False, True
            result.bug_hits.setdefault("FM-01", []).append(
                {"object_id": obj_id, "event_id": ev["id"],
                 "how": "signature verified over re-serialised JSON: 400"})
        elif attempt == 1 and rng.random() < LOST_BEFORE:
            status, error, apply, retry, latency = None, "timeout", False, True, 10_000
        payload = ev
        if apply and old_version:
            payload, changed = render(ev, old_version)
            if changed and obj_id:
                result.rendered_old.add(obj_id)
        if apply:
            clock.now = world_time(at)
            outcome = apply_event(session, payload, bugs=bugs, now=clock.now)
            if outcome.status == "failed":
                session.rollback()
                status, error, retry = 500, "HTTP 500", True
            else:
                session.commit()
                result.applied += 1
                slow = attempt == 1 and ev["type"] in FULFILMENT
                fulfilments += slow
                if attempt == 1 and (rng.random() < LOST_AFTER
                                     or (slow and fulfilments % SLOW_FULFILMENT_EVERY == 1)):
                    status, error, retry, latency = None, "timeout", True, 10_000
            for hit in outcome.bug_hits:
                result.bug_hits.setdefault(hit.bug, []).append(
                    {"object_id": hit.object_id, "event_id": ev["id"], "how": hit.detail})
        if status is not None and 200 <= status < 300:
            served.add(i)
        rows.append((ev["id"], endpoint["id"], ev.get("account") or world.api.platform,
                     attempt, status, float(latency), error, at))
        result.attempts += 1
        if retry and attempt <= len(RETRY_AFTER) and i not in served:
            heapq.heappush(queue, (at + RETRY_AFTER[attempt - 1], n + len(rows), i,
                                   attempt + 1))
    if not record:
        return result
    with store.transaction():
        store.conn.executemany(
            "INSERT INTO deliveries(event_id, endpoint_id, account, attempt, status,"
            " latency_ms, error, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        store.conn.executemany(
            "UPDATE events SET data = json_set(data, '$.pending_webhooks', 0)"
            " WHERE account=? AND id=?",
            [(events[i].get("account") or world.api.platform, events[i]["id"])
             for i in sorted(served)])
    return result


__all__ = ["DeliveryResult", "deliver_all", "install_clock", "world_time"]
