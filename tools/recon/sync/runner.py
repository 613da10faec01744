"""`run_sync`: brings an engagement's Stripe snapshot up to date.

First run (or a type never completed): full sync by list endpoints. Later runs: the events
cursor, unless the gap since the cursor exceeds the events retention window — then a
warning and a full re-sync of the affected types. Interrupted runs (SIGINT, a crash) resume
from the checkpoint. The gateway brings rate limiting and 429/5xx handling.

A type the server cannot list (404: not on this account or server; 403: the restricted key
lacks the permission) does not stop the sync: it is recorded per type (`availability`), the
others sync, and the report names it. It is tried again on the next sync.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from pydantic import BaseModel, Field

from core.errors import StripeError
from tools.recon.sync.availability import TypeUnavailable, judge
from tools.recon.sync.children import fetch_new_parents, sync_children
from tools.recon.sync.events import EventsGap, check_gap, newest_event, sync_events
from tools.recon.sync.full import Lister, sync_type_full
from tools.recon.sync.progress import NullProgress, SyncProgress
from tools.recon.sync.store import Snapshot, TypeState
from tools.recon.sync.types import SYNC_TYPES, resolve_types

__all__ = ["SyncReport", "run_sync"]

log = logging.getLogger(__name__)


class SyncReport(BaseModel):
    mode: str  # full | incremental | mixed
    complete: bool  # finished: every type listed, or recorded as unavailable
    types: dict[str, int] = Field(default_factory=dict)  # objects in the snapshot per type
    fetched: int = 0  # objects and events received in this run
    events_applied: int = 0
    full_types: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    interrupted: bool = False
    # object type → why the server could not list it (the snapshot lacks exactly these)
    unavailable: dict[str, str] = Field(default_factory=dict)


def _lower_bound(gateway: Lister) -> Callable[[], int | None]:
    def probe() -> int | None:
        try:
            created = gateway.get("/v1/account").get("created")
        except StripeError as exc:
            if exc.http_status in (403, 404):  # no account endpoint, or not for this key
                return None  # one slice: balance only suffers
            raise
        return int(created) if created else None

    return probe


def _sync_one(gateway: Lister, snap: Snapshot, otype: str, *, watermark: int,
              since: int | None, slices: int, account: str | None, stop: threading.Event,
              progress: Callable[[int], None]) -> bool:
    """One type in full; an unavailable list is recorded and counts as done."""
    spec = SYNC_TYPES[otype]
    try:
        if spec.parent:
            done = sync_children(gateway, snap, spec, version=watermark, account=account,
                                 stop=stop, progress=progress)
        else:
            done = sync_type_full(gateway, snap, spec, version=watermark, since=since,
                                  slices=slices, account=account, stop=stop,
                                  lower_bound=_lower_bound(gateway), progress=progress)
    except StripeError as exc:
        reason = judge(gateway, spec, exc, account=account)
        if reason is None:
            raise
        _record_unavailable(snap, TypeUnavailable(otype, reason))
        return True
    except TypeUnavailable as exc:
        _record_unavailable(snap, exc)
        return True
    if done:
        with snap.editing() as cp:
            cp.types[otype].unavailable = None
    return done


def _record_unavailable(snap: Snapshot, exc: TypeUnavailable) -> None:
    log.warning("Stripe %s: %s", exc.object_type, exc.reason.describe())
    with snap.editing() as cp:
        state = cp.types[exc.object_type]
        # nothing of this generation can be trusted; the next sync starts the type afresh
        state.running = False
        state.slices = []
        state.unavailable = exc.reason


def run_sync(
    gateway: Lister,
    snap: Snapshot,
    *,
    types: list[str] | None = None,
    since: int | None = None,
    slices: int = 1,
    account: str | None = None,
    progress: SyncProgress | None = None,
    stop: threading.Event | None = None,
    full: bool = False,
) -> SyncReport:
    """Syncs ``types`` (default: all known) into ``snap``; safe to kill and run again."""
    wanted = resolve_types(types)
    shown = progress or NullProgress()
    stop = stop or threading.Event()
    report = SyncReport(mode="incremental", complete=False)
    counted = [0]

    def advance(name: str, n: int) -> None:
        counted[0] += n
        shown.advance(name, n)

    newest = newest_event(gateway)
    with snap.editing() as cp:
        cp.last_sync_started = int(time.time())
        cp.complete = False
        cp.events.available = newest.available
        cp.events.order = newest.order or cp.events.order
        forced = full
        if newest.available and cp.events.id:
            warning = check_gap(cp.events, newest)
            if warning:
                log.warning(warning)
                report.warnings.append(warning)
                forced = True
        if newest.available and cp.events.id is None and newest.id is not None:
            # the last sync saw no event at all, so nothing marks where to replay from: what
            # changed since is only found by listing again
            forced = True
        for t in wanted:
            state = cp.types.setdefault(t, TypeState())
            if forced or not newest.available or SYNC_TYPES[t].refresh:
                state.pending_full = True
        resuming = any(cp.types[t].running for t in wanted)
        # The cursor is taken before any list page, so events after it are replayed later.
        if newest.available and (cp.events.id is None or (forced and not resuming)):
            cp.events = newest.model_copy(update={"paging": cp.events.paging,
                                                  "order": cp.events.order})
            incremental = False
        else:
            incremental = newest.available
        need_full = [t for t in wanted if not cp.types[t].complete]
    watermark = newest.created if newest.created else int(time.time())

    try:
        if incremental:
            shown.start("events")
            try:
                report.events_applied = sync_events(
                    gateway, snap, types=set(wanted) - {"event"}, stop=stop,
                    progress=lambda n: advance("events", n))
            except EventsGap as exc:
                report.warnings.append(f"{exc}; affected types are re-synced in full")
                with snap.editing() as cp:
                    cp.events = newest.model_copy(update={"paging": cp.events.paging,
                                                  "order": cp.events.order})
                    for t in wanted:
                        cp.types[t].pending_full = True
                need_full = list(wanted)
            finally:
                shown.finish("events")
            for otype in wanted:  # parents that arrived through events
                spec = SYNC_TYPES[otype]
                if spec.parent and otype not in need_full and not stop.is_set():
                    try:
                        fetch_new_parents(gateway, snap, spec, version=watermark,
                                          account=account,
                                          progress=lambda n, t=otype: advance(t, n))
                    except TypeUnavailable as exc:
                        _record_unavailable(snap, exc)
        for otype in need_full:
            if stop.is_set():
                break
            report.full_types.append(otype)
            shown.start(otype)
            try:
                done = _sync_one(gateway, snap, otype, watermark=watermark, since=since,
                                 slices=slices, account=account, stop=stop,
                                 progress=lambda n, t=otype: advance(t, n))
            finally:
                shown.finish(otype)
            if not done:
                break
    except KeyboardInterrupt:
        stop.set()
        raise
    finally:
        report.fetched = counted[0]
        final = snap.checkpoint()
        report.types = {t: final.types[t].objects for t in wanted if t in final.types}
        report.unavailable = {t: r.describe() for t, r in final.unavailable().items()
                              if t in wanted}
    report.mode = ("full" if len(report.full_types) == len(wanted)
                   else "mixed" if report.full_types else "incremental")
    report.interrupted = stop.is_set()
    report.complete = all(final.types[t].settled for t in wanted) and not report.interrupted
    with snap.editing() as cp:
        cp.complete = report.complete
        if report.complete:
            cp.last_sync_completed = int(time.time())
    return report
