"""Cross-process wake-ups on PostgreSQL: ``NOTIFY`` when a run is queued or a run event is
written, ``LISTEN`` in every API process.

Rows stay the truth (events are read from `api_run_events`, runs claimed from `api_runs`);
a notification only ends a wait early, so a stream served by one process follows a run
executed by another without waiting for the next poll, and an idle worker picks up a run
queued through another process at once. ``pg_notify`` inside the writing transaction is
delivered at commit, never for a rolled-back write. When the listening connection drops,
the poll (`FDE_API_POLL_SECONDS`) still finds everything; the listener reconnects.
On SQLite there is one process, whose in-process hub and worker wake-ups suffice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core.logging import get_logger

__all__ = ["EVENTS", "RUNS", "Listener", "notify_in"]

log = get_logger("api.notify")

EVENTS = "fde_run_events"  # payload: the run id
RUNS = "fde_runs"  # payload: the run id of a newly queued run


def notify_in(session: Session, channel: str, payload: str) -> None:
    """Queue a notification in the caller's transaction (a no-op off PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_notify(:channel, :payload)"),
                        {"channel": channel, "payload": payload})


class Listener:
    """A thread holding one ``LISTEN`` connection; calls `on_event(run_id)` and `on_run()`
    from that thread (both must be thread-safe)."""

    def __init__(self, engine: Engine, *, on_event: Callable[[str], None],
                 on_run: Callable[[], None], retry_seconds: float = 2.0) -> None:
        self._url = engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False)
        self._on_event, self._on_run = on_event, on_run
        self._retry = retry_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="pg-listen", daemon=True)
        self.connected = threading.Event()

    def start(self) -> Listener:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {EVENTS}")
                    conn.execute(f"LISTEN {RUNS}")
                    self.connected.set()
                    while not self._stop.is_set():
                        # a short timeout so `stop` is noticed; notifications end it early
                        for note in conn.notifies(timeout=1.0):
                            if note.channel == EVENTS:
                                self._on_event(note.payload)
                            elif note.channel == RUNS:
                                self._on_run()
            except Exception as exc:  # noqa: BLE001 - the poll covers the gap; retry
                self.connected.clear()
                log.warning("listen connection lost; polling until it is back",
                            error=type(exc).__name__)
                self._stop.wait(self._retry)
