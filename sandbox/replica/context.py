"""`Ctx`: what a handler or a due-work item gets — one account, one unit of work.

Everything a handler writes through the ctx commits together with its events and its
idempotency record (the pipeline wraps the call in one store transaction); events are
delivered to webhooks only after that commit.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sandbox.replica.errors import resource_missing
from sandbox.replica.templates import template

if TYPE_CHECKING:
    from sandbox.replica.engine import Engine

Obj = dict[str, Any]


def public(obj: Obj) -> Obj:
    """The object as the API shows it: top-level keys starting with ``_`` are private."""
    return {k: v for k, v in obj.items() if not k.startswith("_")}


@dataclass
class Ctx:
    engine: Engine
    account: str
    request_id: str | None = None
    idempotency_key: str | None = None
    api_version: str = ""
    events: list[Obj] = field(default_factory=list)

    def for_account(self, account: str) -> Ctx:
        """The same unit of work acting in another account (events are delivered together)."""
        return Ctx(self.engine, account, self.request_id, self.idempotency_key,
                   self.api_version, self.events)

    # -- time and ids ----------------------------------------------------------------------
    def now(self) -> int:
        return self.engine.clock.now()

    def new_id(self, object_type: str, *, prefix: str | None = None) -> str:
        return self.engine.ids.new(object_type, prefix=prefix)

    @property
    def platform(self) -> str:
        return self.engine.config.platform_account

    @property
    def is_connected(self) -> bool:
        return self.account != self.platform

    # -- objects ---------------------------------------------------------------------------
    def new_object(self, object_type: str, defaults: Obj | None = None) -> Obj:
        """Stripe's example for `object_type` with fresh id/created/livemode (not saved)."""
        spec = self.engine.registry.spec_for(object_type)
        obj = template(object_type)
        if defaults is None:
            defaults = spec.defaults if spec else {}
        obj.update(copy.deepcopy(defaults))
        now = self.now()
        obj["id"] = self.new_id(object_type, prefix=spec.id_prefix if spec else None)
        obj["created"] = now
        if "updated" in obj:
            obj["updated"] = now
        if "livemode" in obj:  # accounts have none
            obj["livemode"] = False
        return obj

    def get(self, object_id: str, object_type: str | None = None, *, param: str = "id") -> Obj:
        """A live object of this account (404 in Stripe's words when missing/other type)."""
        obj = self.find(object_id)
        if obj is None or obj.get("deleted") or (object_type and obj.get("object") != object_type):
            raise resource_missing(object_type or "object", object_id, param=param)
        return obj

    def find(self, object_id: str) -> Obj | None:
        """Object (or tombstone) in this account, then in the platform (accounts live there)."""
        obj = self.engine.store.get(self.account, object_id)
        if obj is None and object_id == self.platform:
            return self.engine.platform_account()
        if obj is None and self.account != self.platform and object_id.startswith("acct_"):
            obj = self.engine.store.get(self.platform, object_id)
        return obj

    def insert(self, obj: Obj, *, account: str | None = None, object_id: str | None = None) -> Obj:
        self.engine.store.insert(account or self.account, obj, object_id=object_id)
        return obj

    def replace(self, obj: Obj, *, account: str | None = None, object_id: str | None = None) -> Obj:
        self.engine.store.replace(account or self.account, obj, object_id=object_id)
        return obj

    # -- events and delayed work -----------------------------------------------------------
    def emit(self, event_type: str, obj: Obj, previous: Obj | None = None) -> Obj:
        """Record ``event_type`` about `obj` (delivered to webhooks after commit)."""
        event = self.engine.events.build(self, event_type, public(obj), previous)
        self.engine.store.insert(self.account, event)
        self.events.append(event)
        return event

    def schedule(self, at: int, kind: str, payload: Obj) -> None:
        """Run the due-work handler registered as `kind` once the clock reaches `at`."""
        if kind not in self.engine.registry.due:
            raise KeyError(f"no due-work handler registered for {kind!r}")
        self.engine.duework.schedule(at, kind, self.account, payload)
