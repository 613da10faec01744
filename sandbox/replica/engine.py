"""The engine: one object owning store, clock, ids, faults, events, due work and webhooks.

`create_app` builds one per app; its `open()`/`close()` run in the server's lifespan, so
the store is opened by the event-loop thread that then serves every request.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sandbox.replica.clock import Clock
from sandbox.replica.config import ReplicaConfig
from sandbox.replica.context import Ctx
from sandbox.replica.duework import DueWork
from sandbox.replica.events import EventFactory
from sandbox.replica.faults import Faults
from sandbox.replica.ids import IdFactory
from sandbox.replica.registry import Registry
from sandbox.replica.store import Store
from sandbox.replica.templates import template
from sandbox.replica.webhooks import Dispatcher

log = logging.getLogger(__name__)
Obj = dict[str, Any]


class Engine:
    def __init__(self, config: ReplicaConfig, registry: Registry) -> None:
        self.config = config
        self.registry = registry
        self.clock = Clock(start=config.clock_start, frozen=config.clock_frozen)
        self.ids = IdFactory(config.id_seed)
        self.faults = Faults(config.faults, config.fault_seed)
        self._store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("engine is not open")
        return self._store

    def open(self) -> None:
        Path(self.config.db_path).parent.mkdir(parents=True, exist_ok=True)
        self._store = Store(self.config.db_path)
        self.events = EventFactory(self._store, self.config.platform_account)
        self.duework = DueWork(self._store)
        self.dispatcher = Dispatcher(self._store, self.clock, self.config)
        self._after_load()

    def _after_load(self) -> None:
        """Make a fresh or freshly loaded database usable: clock, indexes, platform account."""
        state = self.store.meta_get("clock")
        if state is not None:
            self.clock.restore(state)
        else:
            self.save_clock()
        for spec in self.registry.resources.values():
            for path in spec.filters.values():
                self.store.ensure_index(spec.object, path)
        if self.store.meta_get("platform_account") is None:
            self.store.meta_set("platform_account", self._platform_account())

    def _platform_account(self) -> Obj:
        acct = template("account")
        acct.update(
            id=self.config.platform_account, created=self.clock.now(), type="standard",
            email="platform@fde-sandbox.test", charges_enabled=True, payouts_enabled=True,
            details_submitted=True, country="US", default_currency="usd",
        )
        acct["business_profile"]["name"] = "fde sandbox platform"
        acct["settings"]["dashboard"]["display_name"] = "fde sandbox"
        acct["requirements"].update(currently_due=[], eventually_due=[], disabled_reason=None)
        acct["external_accounts"]["url"] = f"/v1/accounts/{acct['id']}/external_accounts"
        return acct

    def platform_account(self) -> Obj:
        return self.store.meta_get("platform_account")

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def context(
        self,
        account: str | None = None,
        *,
        request_id: str | None = None,
        idempotency_key: str | None = None,
        api_version: str = "",
    ) -> Ctx:
        return Ctx(
            engine=self,
            account=account or self.config.platform_account,
            request_id=request_id,
            idempotency_key=idempotency_key,
            api_version=api_version or self.config.api_version,
        )

    # -- clock and due work ----------------------------------------------------------------
    def save_clock(self) -> None:
        self.store.meta_set("clock", self.clock.state())

    def run_due(self) -> int:
        """Run all work due by now; deliver the events it emitted (inside the event loop)."""
        return self.duework.run(self.clock.now(), self._execute)

    def _execute(self, due_at: int, kind: str, account: str, payload: Obj) -> None:
        handler = self.registry.due[kind]
        ctx = self.context(account)
        with self.clock.at(due_at), self.store.transaction():
            handler(ctx, payload)
        self.deliver(ctx.events)

    def deliver(self, events: list[Obj]) -> None:
        if not events:
            return
        try:
            self.dispatcher.dispatch(events)
        except RuntimeError:  # no running loop: a direct (non-server) caller
            log.debug("no event loop; %d events not delivered", len(events))

    def prune(self) -> int:
        return self.store.idempotency_prune(self.clock.now() - self.config.idempotency_ttl)

    # -- snapshots -------------------------------------------------------------------------
    def save_snapshot(self, path: str | Path) -> None:
        self.save_clock()
        self.store.save_snapshot(path)

    def load_snapshot(self, path: str | Path) -> None:
        self.store.load_snapshot(path)
        self._after_load()
