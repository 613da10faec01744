"""SSE streams of a run's persisted events: replay from the start, or resume after the
`Last-Event-ID` (`{run_id}:{seq}`) with exactly the missing events. `metadata`, `error` and
`end` always go out; other events only in the stream modes asked for. Comments keep
idle connections alive (sse-starlette's ping, FDE_API_SSE_HEARTBEAT_SECONDS)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from api.runs import events, service
from api.runs.models import TERMINAL

__all__ = ["stream_response"]

ALWAYS = frozenset({"metadata", "error", "end"})


async def _events(rt: Any, thread_id: str, run_id: str, after: int, modes: set[str] | None,
                  cancel_on_disconnect: bool) -> AsyncIterator[ServerSentEvent]:
    wake = rt.hub.subscribe(run_id)
    rt.hub.clients += 1
    finished = False
    poll = rt.settings.api_poll_seconds
    try:
        while True:
            wake.clear()  # before reading, so an append during the read still wakes us
            batch = await run_in_threadpool(events.read_after, rt.db, run_id, after)
            for ev in batch:
                after = ev.seq
                if modes is None or ev.event in modes or ev.event in ALWAYS:
                    yield ServerSentEvent(data=ev.data, event=ev.event, id=ev.id)
                if ev.event == "end":
                    finished = True
                    return
            if batch:
                continue
            try:
                await asyncio.wait_for(wake.wait(), poll)
            except TimeoutError:
                # another process may be running it: look again; a run cancelled before it
                # started never writes `end`
                status = await run_in_threadpool(_status, rt, run_id)
                if status in TERMINAL and not await run_in_threadpool(
                        events.read_after, rt.db, run_id, after):
                    finished = True
                    yield ServerSentEvent(data=f'{{"run_id":"{run_id}","status":"{status}"}}',
                                          event="end")
                    return
    finally:
        rt.hub.unsubscribe(run_id, wake)
        rt.hub.clients -= 1
        if not finished and cancel_on_disconnect:
            _cancel(rt, thread_id, run_id)


def _status(rt: Any, run_id: str) -> str | None:
    with rt.db.session() as session:
        return service.run_status(session, run_id)


def _cancel(rt: Any, thread_id: str, run_id: str) -> None:
    with rt.db.session() as session:
        service.cancel_run(session, thread_id, run_id)


def stream_response(rt: Any, thread_id: str, run_id: str, *, after: int,
                    modes: list[str] | None, cancel_on_disconnect: bool = False,
                    created: bool = False) -> EventSourceResponse:
    location = f"/threads/{thread_id}/runs/{run_id}"
    headers = {"Location": f"{location}/stream", "Cache-Control": "no-store"}
    if created:
        headers["Content-Location"] = location
    wanted = set(modes) if modes else None

    async def _on_disconnect(_message: Any) -> None:
        # The generator's own `finally` only runs when it is finalised, which can be long
        # after the client left (it sits suspended at a `yield`): cancel on the signal itself.
        # Cancelling a run that already finished is a no-op.
        await run_in_threadpool(_cancel, rt, thread_id, run_id)

    return EventSourceResponse(
        _events(rt, thread_id, run_id, after, wanted, cancel_on_disconnect),
        headers=headers, ping=rt.settings.api_sse_heartbeat_seconds,
        client_close_handler_callable=_on_disconnect if cancel_on_disconnect else None)
