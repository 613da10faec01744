"""Delivery health from sources a real Stripe account has (ADR 0005). Stripe serves no
per-attempt delivery log over its API, so what the detectors know about webhook delivery is
pieced together from:

    events_api     each event's ``pending_webhooks``: endpoints that have not acknowledged
                   it (2xx) yet; > 0 long after ``created`` means some endpoint failed it.
                   Which endpoint: the enabled ones whose ``enabled_events`` match its type.
    processed_log  the user's own processed-event log, read through the mapping (canonical
                   ``processed_event``: event id, type, received at, outcome) — what reached
                   the handler, when, and what it did (missed, late, duplicated, reordered)
    fde_receiver   our webhook receiver as a second endpoint on the same events: what Stripe
                   sent and when (never what the user's endpoint answered)
    export         an imported delivery-attempt log of the user's endpoint (the Dashboard's
                   or Workbench's export), when a user has one

Each finding names the sources it stood on (``details["sources"]``). A question no present
source can answer is None, never a guess.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

if TYPE_CHECKING:
    from tools.checks.context import CheckContext, Delivery

__all__ = ["LISTENERS", "OUTCOMES", "RECEIVER", "DeliveryEvidence", "Source", "TypeHandling",
           "matches"]

Source = Literal["events_api", "processed_log", "fde_receiver", "export"]
RECEIVER = "fde-receiver"  # the endpoint id our receiver's own deliveries carry
# second endpoints on the same events (what Stripe sent): ours, and `stripe listen` output
LISTENERS = frozenset({RECEIVER, "stripe-cli"})
# canonical outcomes of a processed_event row (the mapping's `values` translate the user's
# words into these): applied the change, skipped an older snapshot, logged and did nothing
OUTCOMES = frozenset({"applied", "stale", "ignored"})


def matches(endpoint: dict[str, Any], event_type: str) -> bool:
    """Whether an enabled endpoint subscribes to `event_type` (``*`` and ``x.*`` included)."""
    if endpoint.get("status", "enabled") != "enabled":
        return False
    for wanted in endpoint.get("enabled_events") or []:
        if wanted == "*" or wanted == event_type or (
                wanted.endswith(".*") and event_type.startswith(wanted[:-1])):
            return True
    return False


class TypeHandling(BaseModel):
    """How one event type was handled, settled events only (None: no source can tell)."""

    event_type: str
    events: int
    unacknowledged: int | None  # pending_webhooks > 0 (Events API)
    missed: int | None  # not in the handler's log
    late: int | None  # logged more than the grace period after `created`
    duplicated: int | None  # logged more than once
    out_of_order: int | None  # handled after a newer event about the same object
    sources: str


@dataclass
class DeliveryEvidence:
    ctx: CheckContext

    # -- which sources are present --------------------------------------------------------
    @cached_property
    def sources(self) -> frozenset[Source]:
        out: set[Source] = set()
        if "pending" in self.ctx.available:
            out.add("events_api")
        if "processed" in self.ctx.available:
            out.add("processed_log")
        if any(d.endpoint_id in LISTENERS for d in self.ctx.deliveries):
            out.add("fde_receiver")
        if "export" in self.ctx.available:
            out.add("export")
        return frozenset(out)

    def label(self, *used: Source) -> str:
        return "+".join(s for s in used if s in self.sources) or "none"

    # -- the user's processed-event log ---------------------------------------------------
    @cached_property
    def _log(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in self.ctx.rows("processed_event"):
            if row.get("stripe_id"):
                out[row["stripe_id"]].append(row)
        return out

    def logged(self, event_id: str) -> list[dict[str, Any]]:
        """The log's rows for an event (more than one: handled twice)."""
        return self._log.get(event_id, [])

    def outcome(self, event_id: str) -> str | None:
        rows = self.logged(event_id)
        return rows[0].get("outcome") if rows else None

    def received_at(self, event_id: str) -> int | None:
        times = [r["received_at"] for r in self.logged(event_id) if r.get("received_at")]
        return min(times) if times else None

    @cached_property
    def go_live(self) -> int | None:
        """When the user's handler went live: the first event its log or an export shows;
        with neither, the first event an endpoint was counted for (pending_webhooks > 0 on
        a settled event proves an endpoint existed when it was created)."""
        times = [r["received_at"] for rows in self._log.values() for r in rows
                 if r.get("received_at")]
        times += [d.at for d in self._exported_attempts]
        if times:
            return min(times)
        counted = [ev.get("created") or 0 for ev in self.ctx.events
                   if self.settled(ev) and self.pending(ev)]
        return min(counted, default=None)

    # -- the Events API -------------------------------------------------------------------
    def settled(self, event: dict[str, Any]) -> bool:
        """Old enough that an acknowledgement would have happened (grace period passed)."""
        return (event.get("created") or 0) <= self.ctx.now - self.ctx.profile.grace_seconds

    def given_up(self, event: dict[str, Any]) -> bool:
        """Stripe's retries are over for this event."""
        return ((event.get("created") or 0) + self.ctx.profile.retry_window_seconds
                <= self.ctx.now)

    def pending(self, event: dict[str, Any]) -> int | None:
        if "events_api" not in self.sources:
            return None
        value = event.get("pending_webhooks")
        return int(value) if isinstance(value, int) else None

    def sent(self, event_id: str) -> bool:
        """Our receiver got it: Stripe did send this event to the account's endpoints."""
        return any(d.endpoint_id in LISTENERS for d in self.ctx.attempts(event_id))

    def unacknowledged(self, event: dict[str, Any]) -> bool | None:
        """Some user endpoint has not acknowledged a settled event (None: cannot tell)."""
        if not self.settled(event):
            return None
        pending = self.pending(event)
        if pending is not None:
            return pending > 0
        attempts = self.exported(event["id"])
        if attempts:
            return not any(d.ok for d in attempts)
        return None

    # -- did it reach the user's handler? -------------------------------------------------
    def reached_app(self, event: dict[str, Any]) -> bool | None:
        """True: the handler took it (its log, a 2xx in an export, or every endpoint
        acknowledged it); False: a settled event no endpoint-side source saw succeed;
        None: no source can tell."""
        if self.logged(event["id"]):
            return True
        if any(d.ok for d in self.exported(event["id"])):
            return True
        pending = self.pending(event)
        if pending is not None and pending == 0:
            return True
        if "processed_log" in self.sources and self.settled(event):
            return False
        unacked = self.unacknowledged(event)
        return None if unacked is None else not unacked

    def failed(self, event: dict[str, Any]) -> bool | None:
        """Sent and not taken: unacknowledged (events API or export) and not in the log."""
        if self.logged(event["id"]):
            return False
        return self.unacknowledged(event)

    # -- an imported attempt log (Dashboard / Workbench export) ----------------------------
    @cached_property
    def _exported_attempts(self) -> list[Delivery]:
        return [d for d in self.ctx.deliveries if d.endpoint_id not in LISTENERS]

    def exported(self, event_id: str) -> list[Delivery]:
        """The user endpoint's attempts at this event, from an imported export."""
        return [d for d in self.ctx.attempts(event_id) if d.endpoint_id not in LISTENERS]

    def applied_in_order(self, events: Iterable[dict[str, Any]]) -> list[tuple[int, dict]]:
        """(when the handler applied it, event) for events it applied, by that time."""
        out = []
        for ev in events:
            at = self.received_at(ev["id"])
            if at is None:
                ok = [d.at for d in self.exported(ev["id"]) if d.ok]
                at = max(ok) if ok else None
            if at is not None and self.outcome(ev["id"]) in ("applied", None):
                out.append((at, ev))
        out.sort(key=lambda p: p[0])
        return out

    # -- the log against the events list ----------------------------------------------------
    def handling(self) -> list[TypeHandling]:
        """Per event type: unacknowledged, missed, late, duplicated and out-of-order."""
        logged = "processed_log" in self.sources
        grace = self.ctx.profile.grace_seconds
        reordered = self._out_of_order() if logged else set()
        by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for ev in self.ctx.events:
            if self.settled(ev):
                by_type[ev.get("type") or "?"].append(ev)
        out = []
        for etype, evs in sorted(by_type.items()):
            pend = [self.pending(e) for e in evs]
            times = [(self.received_at(e["id"]), e.get("created") or 0) for e in evs]
            out.append(TypeHandling(
                event_type=etype, events=len(evs),
                unacknowledged=(sum(1 for p in pend if p) if "events_api" in self.sources
                                else None),
                missed=sum(1 for e in evs if not self.logged(e["id"])) if logged else None,
                late=sum(1 for at, c in times if at is not None and at - c > grace)
                if logged else None,
                duplicated=sum(1 for e in evs if len(self.logged(e["id"])) > 1)
                if logged else None,
                out_of_order=sum(1 for e in evs if e["id"] in reordered) if logged else None,
                sources=self.label("events_api", "processed_log")))
        return out

    def _out_of_order(self) -> set[str]:
        """Events the handler took after a newer event about the same object."""
        out: set[str] = set()
        by_object: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
        for ev in self.ctx.events:
            obj = ((ev.get("data") or {}).get("object") or {}).get("id")
            at = self.received_at(ev["id"])
            if obj and at is not None:
                by_object[obj].append((ev.get("created") or 0, at, ev["id"]))
        for rows in by_object.values():
            rows.sort()
            for i, (created, at, eid) in enumerate(rows):
                if any(c2 > created and at2 < at for c2, at2, _ in rows[i + 1:]):
                    out.add(eid)
        return out
