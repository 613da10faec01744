"""`CheckContext`: everything the detectors read, built once per run, with the indexes they
share (objects by id, events per object, delivery attempts per event, local rows by Stripe
id). Sources fill it (`sources.py`): the recon snapshot or any object list, the user system
through the recon adapter (its processed-event log included), the receiver's inbox, an
imported attempt export; `delivery` answers delivery questions from whichever are present.

Stripe objects are plain dicts as the API returns them, each with ``_account`` (the Connect
account it lives in; None = the platform).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tools.checks.delivery import DeliveryEvidence
from tools.checks.model import Input
from tools.shadow.plan import ShadowPlan
from tools.stripe.config import API_VERSION

__all__ = ["CheckContext", "Delivery", "Profile", "Obj"]

Obj = dict[str, Any]


class Delivery(BaseModel):
    """One delivery attempt to one endpoint: our receiver's own (endpoint ``fde-receiver``)
    or a row of an imported attempt export of the user's endpoint."""

    event_id: str
    endpoint_id: str | None = None
    account: str | None = None
    attempt: int = 1
    status: int | None = None
    latency_ms: float | None = None
    error: str | None = None
    at: int

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Profile(BaseModel):
    """What the engagement declares about its integration (integration.yaml)."""

    model_config = ConfigDict(extra="forbid")  # a misspelt key must not silently vanish

    api_version: str = Field(default=API_VERSION, description="the version the code is pinned to")
    expected_livemode: bool | None = None
    handlers: dict[str, str] = Field(default_factory=dict, description="event type -> handler")
    grace_seconds: int = Field(default=900, description="ε: in-flight work is not a finding")
    retry_window_seconds: int = Field(default=3 * 86400, description="Stripe's live retries")
    shadow: ShadowPlan | None = Field(
        default=None, description="the shadow test the autopilot re-runs when this changes")


@dataclass
class CheckContext:
    now: int
    profile: Profile = field(default_factory=Profile)
    objects: dict[str, list[Obj]] = field(default_factory=dict)
    events: list[Obj] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    local: dict[str, list[Obj]] = field(default_factory=dict)
    engagement: str | None = None
    # (entity, field) -> the user's word -> the canonical (Stripe) words it stands for, from
    # the mapping's `values` (format v2); empty: the columns already hold Stripe's words
    vocab: dict[tuple[str, str], dict[str, frozenset[str]]] = field(default_factory=dict)
    available: frozenset[Input] = frozenset({"stripe", "events", "pending", "local",
                                             "processed"})

    # -- Stripe side -----------------------------------------------------------------------
    def of(self, object_type: str) -> list[Obj]:
        return self.objects.get(object_type, [])

    @cached_property
    def by_id(self) -> dict[str, Obj]:
        return {o["id"]: o for objs in self.objects.values() for o in objs if o.get("id")}

    def get(self, object_id: str | None) -> Obj | None:
        return self.by_id.get(object_id) if object_id else None

    @cached_property
    def endpoints(self) -> list[Obj]:
        return [e for e in self.of("webhook_endpoint") if not e.get("deleted")]

    @cached_property
    def _events_by_object(self) -> dict[str, list[Obj]]:
        out: dict[str, list[Obj]] = defaultdict(list)
        for ev in self.events:
            obj = (ev.get("data") or {}).get("object") or {}
            if obj.get("id"):
                out[obj["id"]].append(ev)
        for evs in out.values():
            evs.sort(key=lambda e: (e.get("created") or 0))
        return out

    def events_for(self, object_id: str, types: Iterable[str] | None = None) -> list[Obj]:
        evs = self._events_by_object.get(object_id, [])
        if types is None:
            return evs
        wanted = set(types)
        return [e for e in evs if e.get("type") in wanted]

    @cached_property
    def events_by_id(self) -> dict[str, Obj]:
        return {e["id"]: e for e in self.events}

    @cached_property
    def _positions(self) -> dict[str, tuple[int, int]]:
        return {e["id"]: (e.get("created") or 0, i) for i, e in enumerate(self.events)}

    def position(self, event_id: str) -> tuple[int, int]:
        """Order of events: created, then the order Stripe listed them in."""
        return self._positions.get(event_id, (0, -1))

    # -- deliveries -----------------------------------------------------------------------
    @cached_property
    def delivery(self) -> DeliveryEvidence:
        """Delivery health from the sources present (tools/checks/delivery.py)."""
        return DeliveryEvidence(self)

    @cached_property
    def _attempts(self) -> dict[str, list[Delivery]]:
        out: dict[str, list[Delivery]] = defaultdict(list)
        for d in self.deliveries:
            out[d.event_id].append(d)
        for attempts in out.values():
            attempts.sort(key=lambda d: (d.at, d.attempt))
        return out

    def attempts(self, event_id: str) -> list[Delivery]:
        return self._attempts.get(event_id, [])

    def delivered(self, event_id: str) -> bool:
        """The user's handler took this event, by whichever source can tell."""
        ev = self.events_by_id.get(event_id)
        return bool(ev is not None and self.delivery.reached_app(ev))

    def handled(self, event_type: str) -> bool | None:
        """Whether the profile declares a handler for `event_type` (None: not declared)."""
        if not self.profile.handlers:
            return None
        return event_type in self.profile.handlers

    # -- user side ------------------------------------------------------------------------
    def rows(self, entity: str) -> list[Obj]:
        return self.local.get(entity, [])

    @cached_property
    def _local_index(self) -> dict[str, dict[str, Obj]]:
        return {name: {r["stripe_id"]: r for r in rows if r.get("stripe_id")}
                for name, rows in self.local.items()}

    def words(self, entity: str, name: str, value: Any) -> frozenset[Any]:
        """The canonical values a user's column value stands for (itself when untranslated);
        detectors compare these with Stripe's, never a user column with a literal word."""
        table = self.vocab.get((entity, name))
        if table and value in table:
            return table[value]
        return frozenset({value})

    def same(self, entity: str, name: str, row: Obj | None, stripe_value: Any) -> bool:
        """Whether the row's field says what Stripe says (through the mapping's words)."""
        return row is not None and stripe_value in self.words(entity, name, row.get(name))

    def row(self, entity: str, stripe_id: str | None) -> Obj | None:
        return self._local_index.get(entity, {}).get(stripe_id) if stripe_id else None

    @cached_property
    def _entitlements_by_source(self) -> dict[str, list[Obj]]:
        out: dict[str, list[Obj]] = defaultdict(list)
        for r in self.rows("entitlement"):
            if r.get("source_id"):
                out[r["source_id"]].append(r)
        return out

    def entitlements(self, source_id: str | None, *, active: bool | None = True) -> list[Obj]:
        rows = self._entitlements_by_source.get(source_id or "", [])
        return [r for r in rows if active is None or bool(r.get("active")) == active]

    def iter_local_with_stripe(self, entity: str, object_type: str) -> Iterator[tuple[Obj, Obj]]:
        """(local row, Stripe object) pairs for rows whose Stripe object is known."""
        for r in self.rows(entity):
            obj = self.get(r.get("stripe_id"))
            if obj is not None and obj.get("object") == object_type:
                yield r, obj


def path(obj: Obj | None, dotted: str) -> Any:
    """`items.data[0].price.id`-style lookup; None when any step is missing."""
    cur: Any = obj
    for part in dotted.replace("]", "").split("."):
        name, _, index = part.partition("[")
        if not isinstance(cur, dict):
            return None
        cur = cur.get(name)
        if index:
            if not isinstance(cur, list) or len(cur) <= int(index):
                return None
            cur = cur[int(index)]
    return cur
