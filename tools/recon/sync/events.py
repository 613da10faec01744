"""Incremental sync: the events API as a cursor.

Events newer than the stored cursor are walked oldest page first (``ending_before``); each
page is stored as event rows and as object rows (``data.object``, versioned by the event's
``created``), then the cursor moves to the page's newest event. Stripe keeps events for 30
days: a cursor older than that (or one Stripe no longer knows) means changes were lost, and
the caller re-syncs the affected types in full.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from core.errors import StripeRequestError
from tools.recon.sync.full import VERSION_SCALE, Lister
from tools.recon.sync.store import EVENT, EventsCursor, Snapshot

__all__ = ["EVENTS_RETENTION", "EventsGap", "newest_event", "sync_events"]

EVENTS_RETENTION = 30 * 86400
PAGE = 100


class EventsGap(Exception):
    """The cursor is older than the events retention window (or unknown to Stripe)."""


def newest_event(gateway: Lister) -> EventsCursor:
    """The newest event (one call); ``available=False`` when there is no events API."""
    try:
        page = gateway.get("/v1/events", {"limit": 1})
    except StripeRequestError as exc:
        if exc.http_status in (404, 400):
            return EventsCursor(available=False)
        raise
    data = page.get("data") or []
    if not data:
        return EventsCursor(available=True)
    return EventsCursor(id=data[0]["id"], created=int(data[0]["created"]), available=True)


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


def _apply_page(snap: Snapshot, page: list[dict[str, Any]], types: set[str], seq: int) -> int:
    """Store one page (newest first). Returns the next sequence number."""
    ordered = list(reversed(page))  # oldest first: later events get higher versions
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


def sync_events(
    gateway: Lister, snap: Snapshot, *, types: set[str], stop: threading.Event,
    progress: Callable[[int], None],
) -> int:
    """Applies every event after the stored cursor; returns how many were stored."""
    cursor = snap.checkpoint().events
    if cursor.id is None:
        return 0
    params: dict[str, Any] = {"ending_before": cursor.id}
    page: list[dict[str, Any]] = []
    stored = 0
    seq = 0

    def commit() -> None:
        nonlocal seq, stored
        if not page:
            return
        seq = _apply_page(snap, page, types, seq)
        with snap.editing() as cp:
            cp.events.id = page[0]["id"]
            cp.events.created = int(page[0]["created"])
        stored += len(page)
        progress(len(page))
        page.clear()

    try:
        for event in gateway.list_all("/v1/events", params):
            page.append(event)
            if len(page) == PAGE:
                commit()
                if stop.is_set():
                    return stored
    except StripeRequestError as exc:
        if exc.http_status == 404:
            raise EventsGap(f"Stripe no longer knows the events cursor {cursor.id}") from None
        raise
    commit()
    return stored
