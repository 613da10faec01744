"""The autopilot inside `fde serve` (FDE_AUTOPILOT=1 or `--autopilot`): the embedded
scheduler on its own thread beside the run workers, escalating into the API's queue.

Each loop first hands decisions that never reached their case to it (`feed_back_pending`),
then runs one tick, then waits for the next poll or for `stop()`. Stopping lets the tick in
flight finish: its jobs commit as a whole, and a job cut short by a dying process is taken
again when its lease expires."""

from __future__ import annotations

import os
import threading

from agents.autopilot import Autopilot, AutopilotDeps, GraphTriager, TickReport
from api.autopilot_sink import ApiEscalationSink, feed_back_pending
from core.logging import get_logger
from core.redact import redact_secrets
from core.settings import Settings
from core.storage import Database

__all__ = ["AutopilotRunner"]

log = get_logger("autopilot")


class AutopilotRunner:
    def __init__(self, settings: Settings, db: Database, *,
                 poll_seconds: float | None = None, triage: bool = True) -> None:
        self.settings = settings
        self.db = db
        self.poll_seconds = poll_seconds or settings.autopilot_poll_seconds
        self.triage = triage
        self.ticks = 0
        self.last: TickReport | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> AutopilotRunner:
        self._thread = threading.Thread(target=self._run, name="fde-autopilot", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 120.0) -> bool:
        """True when the loop ended within ``timeout`` (a long tick may still be finishing)."""
        self._stop.set()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        from agents.checkpoint import open_checkpointer
        from agents.planners import select_planner

        with open_checkpointer(self.settings) as saver:
            triager = None
            if self.triage:
                planner, note = select_planner(dict(os.environ))
                triager = GraphTriager(planner, checkpointer=saver, planner_note=note)
            pilot = Autopilot(AutopilotDeps(settings=self.settings, db=self.db,
                                            sink=ApiEscalationSink(self.settings),
                                            triager=triager))
            log.info("autopilot started", poll_seconds=self.poll_seconds)
            while not self._stop.is_set():
                try:
                    feed_back_pending(self.settings, self.db)
                    self.last = pilot.run_once()
                except Exception as exc:  # noqa: BLE001 - a bad tick must not end the loop
                    log.warning("autopilot tick failed",
                                error=redact_secrets(f"{type(exc).__name__}: {exc}")[:500])
                self.ticks += 1
                self._stop.wait(self.poll_seconds)
        log.info("autopilot stopped", ticks=self.ticks)
