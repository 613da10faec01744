"""Everything the thread/run API needs while the app lives: the assistants' compiled
graphs over one checkpointer, the event hub, the worker pool. Opened in the app lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from api.runs.assistants import AssistantSpec, load_assistants
from api.runs.events import EventHub
from api.runs.notify import Listener
from api.runs.worker import WorkerPool
from core.settings import Settings
from core.storage import Database

__all__ = ["Runtime"]


@dataclass
class Runtime:
    settings: Settings
    db: Database
    assistants: dict[str, AssistantSpec] = field(default_factory=dict)
    graphs: dict[str, Any] = field(default_factory=dict)
    hub: EventHub = field(default_factory=EventHub)
    planners: dict[str, Any] = field(default_factory=dict)
    pool: WorkerPool | None = None
    metrics_registry: Any = None
    listener: Listener | None = None
    _stack: ExitStack = field(default_factory=ExitStack)

    def open(self, *, workers: int) -> Runtime:
        """Inside the app's event loop; ``workers`` > 0 starts the run workers."""
        loop = asyncio.get_running_loop()
        self.hub.bind(loop)
        self._graphs()
        if workers > 0:
            self.pool = WorkerPool(self, workers)
            self.pool.start()
        if self.db.engine.dialect.name == "postgresql":
            # other processes' runs and events wake this one's workers and streams
            self.listener = Listener(self.db.engine, on_event=self.hub.notify,
                                     on_run=lambda: loop.call_soon_threadsafe(self.wake)).start()
        return self

    @classmethod
    @contextmanager
    def offline(cls, settings: Settings, db: Database) -> Iterator[Runtime]:
        """Graphs and queue without workers or event loop (the CLI queues runs that the
        `fde serve` workers execute)."""
        rt = cls(settings, db)
        rt._graphs()
        try:
            yield rt
        finally:
            rt._stack.close()

    def _graphs(self) -> None:
        from agents.checkpoint import open_checkpointer

        saver = self._stack.enter_context(open_checkpointer(self.settings))
        self.assistants = load_assistants(self.settings)
        self.graphs = {name: spec.build(saver) for name, spec in self.assistants.items()}

    def wake(self) -> None:
        if self.pool is not None:
            self.pool.wake()

    async def close(self) -> None:
        if self.listener is not None:
            await asyncio.to_thread(self.listener.stop)
        if self.pool is not None:
            await self.pool.stop()
        self._stack.close()
