"""Run workers: asyncio tasks inside the API process that claim queued runs and execute
them in a thread pool of the same size, renewing each run's lease while it runs.

A worker that dies (kill -9) stops renewing; once its lease expires, any worker of any
process sharing the database claims the run again and continues it from its checkpoint."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from api.runs import executor, queue
from core.ids import new_id
from core.logging import get_logger

log = get_logger("api.workers")

__all__ = ["WorkerPool"]


class WorkerPool:
    def __init__(self, rt: Any, count: int) -> None:
        self.rt = rt
        self.count = count
        self.name = f"{socket.gethostname()}:{os.getpid()}:{new_id('wrk')[-6:]}"
        self._pool = ThreadPoolExecutor(max_workers=max(count, 1), thread_name_prefix="run")
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._running: dict[str, threading.Event] = {}
        self.shutting_down = threading.Event()
        self.busy = 0

    def start(self) -> None:
        for i in range(self.count):
            self._tasks.append(asyncio.create_task(self._loop(f"{self.name}/{i}")))

    def wake(self) -> None:
        self._wake.set()

    async def stop(self, grace: float = 10.0) -> None:
        """Stop claiming; ask running runs to stop at their next step and hand them back to
        the queue (another worker continues them from their checkpoint)."""
        self._stopping = True
        self.shutting_down.set()
        for stop in list(self._running.values()):
            stop.set()
        self._wake.set()
        _, late = await asyncio.wait(self._tasks, timeout=grace) if self._tasks else ((), ())
        for task in late:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _loop(self, worker: str) -> None:
        loop = asyncio.get_running_loop()
        settings = self.rt.settings
        while not self._stopping:
            try:
                run = await loop.run_in_executor(
                    self._pool, queue.claim_next, self.rt.db, worker,
                    settings.api_run_lease_seconds)
            except Exception as exc:  # noqa: BLE001 - a DB hiccup must not end the worker
                log.warning("claim failed", worker=worker, error=str(exc))
                run = None
            if run is None:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), settings.api_poll_seconds)
                except TimeoutError:
                    pass
                continue
            await self._run(loop, worker, run)

    async def _run(self, loop: asyncio.AbstractEventLoop, worker: str,
                   run: queue.Claimed) -> None:
        stop = threading.Event()
        self._running[run.run_id] = stop
        beat = asyncio.create_task(self._heartbeat(worker, run.run_id, stop))
        self.busy += 1
        try:
            status = await loop.run_in_executor(self._pool, executor.execute, self.rt, run,
                                                worker, stop)
            log.info("run finished", run_id=run.run_id, status=status, worker=worker)
        except Exception as exc:  # noqa: BLE001
            log.warning("run crashed", run_id=run.run_id, error=str(exc))
        finally:
            self.busy -= 1
            self._running.pop(run.run_id, None)
            beat.cancel()

    async def _heartbeat(self, worker: str, run_id: str, stop: threading.Event) -> None:
        """Renew the lease until the run's thread returns (cancelled by `_run`), even after
        a cancel: the run stays ours until it has stopped, so nobody else claims it."""
        lease = self.rt.settings.api_run_lease_seconds
        while True:
            await asyncio.sleep(lease / 3)
            try:
                held, cancel = await asyncio.to_thread(queue.renew, self.rt.db, run_id, worker,
                                                       lease)
            except Exception as exc:  # noqa: BLE001 - try again at the next beat
                log.warning("lease renewal failed", run_id=run_id, error=str(exc))
                continue
            if cancel or not held:
                stop.set()
            if not held:
                return
