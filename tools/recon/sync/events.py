"""Incremental sync: the events API as a cursor.

Events newer than the stored cursor are walked oldest page first (``ending_before``); each
page is stored as event rows and as object rows (``data.object``, versioned by the event's
``created``), then the cursor moves to the page's newest event. Stripe keeps events for 30
days: a cursor older than that (or one Stripe no longer knows) means changes were lost, and
the caller re-syncs the affected types in full.

Not every Stripe-compatible server takes ``ending_before`` (localstripe answers 400). Then,
and from then on for that snapshot (``EventsCursor.paging``), events are asked for with what
every such server takes: ``created[gte]`` the cursor's second (an overlap: events of that
second may already be stored) walked with ``starting_after``; ids already in the snapshot
are dropped, the rest are put oldest first whatever order the server lists in, and applied
page by page as above. If the server rejects that too, `EventsGap` sends the caller to a
full re-sync, with a warning saying why.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import polars as pl

from core.errors import StripeError, StripeRequestError
from tools.recon.sync.full import VERSION_SCALE, Lister
from tools.recon.sync.store import EVENT, EventsCursor, Snapshot

__all__ = ["EVENTS_RETENTION", "EventsGap", "newest_event", "sync_events"]

EVENTS_RETENTION = 30 * 86400
PAGE = 100


class EventsGap(Exception):
    """Events after the cursor cannot be replayed: older than the retention window, unknown
    to Stripe, or the server takes no parameter that asks for them."""


def newest_event(gateway: Lister) -> EventsCursor:
    """The newest event; ``available=False`` when there is no events API (or the key may not
    read it)."""
    try:
        page = gateway.get("/v1/events", {"limit": 1})
    except StripeError as exc:
        if exc.http_status in (400, 403, 404):
            return EventsCursor(available=False)
        raise
    data = page.get("data") or []
    if not data:
        return EventsCursor(available=True)
    newest = data[0]
    # Stripe lists newest first; a server that lists oldest first (localstripe) has events
    # of later seconds, and its newest is the last of them in its own order
    try:
        later = gateway.get("/v1/events", {"limit": 1,
                                           "created": {"gt": int(newest["created"])}})
    except StripeRequestError as exc:
        if exc.http_status != 400:
            raise
        later = {}  # the server cannot be asked: its first event is taken as Stripe's
    if not later.get("data"):
        return EventsCursor(id=newest["id"], created=int(newest["created"]), available=True)
    for event in gateway.list_all("/v1/events", {"created": {"gt": int(newest["created"])}}):
        if int(event["created"]) >= int(newest["created"]):
            newest = event
    return EventsCursor(id=newest["id"], created=int(newest["created"]), available=True,
                        order="oldest_first")


def check_gap(cursor: EventsCursor, newest: EventsCursor) -> str | None:
    """A warning when the time since the cursor exceeds the retention window."""
    if cursor.created is None or newest.created is None:
        return None
    gap = newest.created - cursor.created
    if gap > EVENTS_RETENTION:
        return (f"the last events cursor ({cursor.id}) is {gap // 86400} days old, beyond "
                f"Stripe's {EVENTS_RETENTION // 86400}-day events retention: changes in the "
                "gap cannot be replayed; affected types are re-synced in full")
    return None


def _apply(snap: Snapshot, ordered: list[dict[str, Any]], types: set[str], seq: int) -> int:
    """Store events given oldest first (later ones get higher versions). Returns the next
    sequence number."""
    versions = []
    by_type: dict[str, tuple[list[dict[str, Any]], list[int]]] = defaultdict(lambda: ([], []))
    for event in ordered:
        seq += 1
        version = int(event["created"]) * VERSION_SCALE + seq
        versions.append(version)
        obj = (event.get("data") or {}).get("object") or {}
        otype = obj.get("object")
        if otype in types and obj.get("id"):
            obj = dict(obj)
            obj["_account"] = event.get("account")
            if str(event.get("type", "")).endswith(".deleted"):
                obj["_deleted"] = True
            objs, vers = by_type[otype]
            objs.append(obj)
            vers.append(version)
    snap.append("event", ordered, version=0, source=EVENT, versions=versions)
    for otype, (objs, vers) in by_type.items():
        snap.append(otype, objs, version=0, source=EVENT, versions=vers)
    return seq


class _Applier:
    """Stores pages of events (oldest first) and moves the cursor after each."""

    def __init__(self, snap: Snapshot, types: set[str], progress: Callable[[int], None]):
        self.snap, self.types, self.progress = snap, types, progress
        self.seq = self.stored = 0

    def commit(self, ordered: list[dict[str, Any]]) -> None:
        if not ordered:
            return
        self.seq = _apply(self.snap, ordered, self.types, self.seq)
        with self.snap.editing() as cp:
            cp.events.id = ordered[-1]["id"]
            cp.events.created = int(ordered[-1]["created"])
        self.stored += len(ordered)
        self.progress(len(ordered))


def _by_ending_before(gateway: Lister, cursor: EventsCursor, applier: _Applier,
                      stop: threading.Event) -> None:
    page: list[dict[str, Any]] = []
    try:
        for event in gateway.list_all("/v1/events", {"ending_before": cursor.id}):
            page.append(event)
            if len(page) == PAGE:
                applier.commit(list(reversed(page)))  # a page is newest first
                page.clear()
                if stop.is_set():
                    return
    except StripeRequestError as exc:
        if exc.http_status == 404:
            raise EventsGap(f"Stripe no longer knows the events cursor {cursor.id}") from None
        raise
    applier.commit(list(reversed(page)))


def _oldest_first(events: list[dict[str, Any]], *, forward: bool) -> list[dict[str, Any]]:
    """Events in the order they happened: ``forward`` when the server listed them so (see
    `_by_created`); same-second events keep the order that implies."""
    listed = events if forward else list(reversed(events))
    return sorted(listed, key=lambda e: int(e["created"]))  # stable


def _known_ids(snap: Snapshot, since: int) -> set[str]:
    stored = snap.frame("event", include_deleted=True)
    return set(stored.filter(pl.col("created") >= since)["id"].to_list())


def _by_created(gateway: Lister, snap: Snapshot, cursor: EventsCursor, applier: _Applier,
                stop: threading.Event) -> None:
    since = cursor.created or 0
    known = _known_ids(snap, since)
    listed: list[dict[str, Any]] = []
    forward: bool | None = None  # what this listing shows: the first change of second
    for event in gateway.list_all("/v1/events", {"created": {"gte": since}}):
        if forward is None and listed and int(event["created"]) != int(listed[-1]["created"]):
            forward = int(event["created"]) > int(listed[-1]["created"])
        listed.append(event)
    if forward is None and cursor.order is not None:  # one second: what a listing proved
        forward = cursor.order == "oldest_first"
    elif forward is not None and cursor.order is None:
        with snap.editing() as cp:
            cp.events.order = "oldest_first" if forward else "newest_first"
    ids = [e["id"] for e in listed]
    at = ids.index(cursor.id) if cursor.id in ids else None
    if forward is not None and at is not None:  # only the side after the cursor is new
        listed = listed[at + 1:] if forward else listed[:at]
    fresh: dict[str, dict[str, Any]] = {}
    for event in listed:
        if event["id"] not in known and event["id"] != cursor.id:
            fresh.setdefault(event["id"], event)
    if forward is None:  # one second, order never shown: new events after the cursor's own
        first = next((i for i, e in enumerate(listed) if e["id"] in fresh), None)
        forward = at is not None and first is not None and first > at
    ordered = _oldest_first(list(fresh.values()), forward=forward)
    for start in range(0, len(ordered), PAGE):
        applier.commit(ordered[start:start + PAGE])
        if stop.is_set():
            return


def sync_events(
    gateway: Lister, snap: Snapshot, *, types: set[str], stop: threading.Event,
    progress: Callable[[int], None],
) -> int:
    """Applies every event after the stored cursor; returns how many were stored."""
    cursor = snap.checkpoint().events
    if cursor.id is None:
        return 0
    applier = _Applier(snap, types, progress)
    if cursor.paging == "ending_before":
        try:
            _by_ending_before(gateway, cursor, applier, stop)
            return applier.stored
        except StripeRequestError as exc:
            if exc.http_status != 400:
                raise
            refused = str(exc)
        with snap.editing() as cp:  # this server will not take it next time either
            cp.events.paging = "created"
            cursor = cp.events  # pages stored before the refusal moved it
    else:
        refused = None
    try:
        _by_created(gateway, snap, cursor, applier, stop)
    except StripeRequestError as exc:
        if exc.http_status != 400:
            raise
        refusals = [f"ending_before ({refused})"] if refused else []
        refusals.append(f"created[gte] ({exc})")
        raise EventsGap(f"the server refused {' and '.join(refusals)} on /v1/events, so "
                        "changes since the last sync cannot be replayed") from None
    return applier.stored
