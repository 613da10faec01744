"""Drains the inbox after the receiver has answered: the stored row is the source of truth.

`Processor.drain(engagement)` takes the engagement's `received` rows in arrival order, runs
the hooks (live map health is read from processed rows; incremental checks), and marks the
rows processed — or failed with the error, so a bug in a hook never loses an event and
never blocks the receiver. One drain at a time per engagement (a lock), so concurrent
deliveries never process a row twice at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from core.logging import get_logger
from core.storage import Database
from tools.webhooks import inbox
from tools.webhooks.inbox import InboxEvent

__all__ = ["Hook", "Processor"]

log = get_logger("webhooks.processor")

Hook = Callable[[Database, str, Sequence[InboxEvent]], None]
"""Called with (database, engagement, newly processed events)."""


@dataclass
class Processor:
    database: Database
    hooks: list[Hook] = field(default_factory=list)
    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def _lock(self, engagement: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(engagement, threading.Lock())

    def drain_backlog(self) -> int:
        """Process whatever earlier processes stored but never processed; returns how many."""
        with self.database.session() as session:
            names = inbox.engagements_with_pending(session)
        return sum(self.drain(name) for name in names)

    def drain(self, engagement: str) -> int:
        """Process every stored, unprocessed event of `engagement`; returns how many."""
        done = 0
        with self._lock(engagement):
            while True:
                with self.database.session() as session:
                    batch = inbox.pending(session, engagement, limit=200)
                if not batch:
                    return done
                error: str | None = None
                for hook in self.hooks:
                    try:
                        hook(self.database, engagement, batch)
                    except Exception as exc:  # noqa: BLE001 - a hook bug must not lose events
                        log.warning("webhook hook failed", hook=getattr(hook, "__name__", "?"),
                                    engagement=engagement, error=str(exc))
                        error = f"{type(exc).__name__}: {exc}"
                with self.database.session() as session:
                    inbox.mark(session, [e.seq for e in batch],
                               "failed" if error else "processed", error=error)
                done += len(batch)
