"""`/threads/{id}/runs…`: create (queued), stream (SSE), reconnect with Last-Event-ID,
list, get, cancel, join and wait."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.concurrency import run_in_threadpool
from sse_starlette import EventSourceResponse

from api.auth import Principal
from api.deps import Engineer, IdPath, Rt, Viewer
from api.runs import events, service, store
from api.runs.models import TERMINAL, Run, RunCreate
from api.runs.runtime import Runtime
from api.runs.stream import stream_response

router = APIRouter(tags=["runs"])
_ERR = {400: {"description": "bad input"}, 404: {"description": "unknown thread or run"},
        409: {"description": "thread busy, waiting for a decision, or already decided"}}
_SSE = {200: {"content": {"text/event-stream": {}}, "description": "server-sent events"}}


async def _create(rt: Runtime, thread_id: str, body: RunCreate, who: Principal) -> Run:
    def create() -> Run:
        with rt.db.session() as session:
            return service.create_run(rt, session, thread_id, body, who)
    run = await run_in_threadpool(create)
    rt.wake()
    return run


@router.post("/threads/{thread_id}/runs", response_model=Run, responses=_ERR)
async def create(thread_id: IdPath, body: RunCreate, rt: Rt, who: Engineer) -> Run:
    return await _create(rt, thread_id, body, who)


@router.post("/threads/{thread_id}/runs/stream", response_class=EventSourceResponse,
             responses={**_ERR, **_SSE})
async def create_and_stream(thread_id: IdPath, body: RunCreate, rt: Rt,
                            who: Engineer) -> EventSourceResponse:
    run = await _create(rt, thread_id, body, who)
    return stream_response(rt, thread_id, run.run_id, after=-1, modes=body.modes(),
                           cancel_on_disconnect=body.on_disconnect == "cancel", created=True)


@router.get("/threads/{thread_id}/runs", response_model=list[Run], responses=_ERR)
def list_runs(thread_id: IdPath, rt: Rt, _: Viewer,
              limit: Annotated[int, Query(ge=1, le=1000)] = 10,
              offset: Annotated[int, Query(ge=0)] = 0) -> list[Run]:
    with rt.db.session() as session:
        store.get_thread(session, thread_id)
        return store.list_runs(session, thread_id, limit=limit, offset=offset)


@router.get("/threads/{thread_id}/runs/{run_id}", response_model=Run, responses=_ERR)
def get_run(thread_id: IdPath, run_id: IdPath, rt: Rt, _: Viewer) -> Run:
    with rt.db.session() as session:
        return store.get_run(session, thread_id, run_id)


@router.get("/threads/{thread_id}/runs/{run_id}/stream", response_class=EventSourceResponse,
            responses={**_ERR, **_SSE})
async def join_stream(thread_id: IdPath, run_id: IdPath, rt: Rt, _: Viewer,
                      last_event_id: Annotated[str | None, Header()] = None,
                      stream_mode: Annotated[list[str] | None, Query()] = None,
                      cancel_on_disconnect: bool = False) -> EventSourceResponse:
    """Replays the run's events from the start, or only those after `Last-Event-ID`."""
    def check() -> Run:
        with rt.db.session() as session:
            return store.get_run(session, thread_id, run_id)
    run = await run_in_threadpool(check)
    # the SDK sends `stream_mode=` (empty) when it names none: the run's own modes then
    asked = [m for m in stream_mode or [] if m]
    modes = asked or run.kwargs.get("stream_mode")
    return stream_response(rt, thread_id, run_id, after=events.parse_event_id(
        run_id, last_event_id), modes=modes, cancel_on_disconnect=cancel_on_disconnect)


@router.post("/threads/{thread_id}/runs/{run_id}/cancel", response_model=Run, responses=_ERR)
def cancel(thread_id: IdPath, run_id: IdPath, rt: Rt, _: Engineer) -> Run:
    with rt.db.session() as session:
        return service.cancel_run(session, thread_id, run_id)


async def _join(rt: Runtime, thread_id: str, run_id: str) -> dict[str, Any]:
    wake = rt.hub.subscribe(run_id)
    try:
        while True:
            wake.clear()

            def read() -> tuple[Run, Any]:
                with rt.db.session() as session:
                    return (store.get_run(session, thread_id, run_id),
                            store.get_thread(session, thread_id))
            run, thread = await run_in_threadpool(read)
            if run.status in TERMINAL:
                values = dict(thread.values or {})
                pending = [i for items in thread.interrupts.values() for i in items]
                if pending:
                    values["__interrupt__"] = pending
                return values
            try:
                await asyncio.wait_for(wake.wait(), rt.settings.api_poll_seconds)
            except TimeoutError:
                pass
    finally:
        rt.hub.unsubscribe(run_id, wake)


@router.get("/threads/{thread_id}/runs/{run_id}/join", response_model=dict[str, Any],
            responses=_ERR)
async def join(thread_id: IdPath, run_id: IdPath, rt: Rt, _: Viewer) -> dict[str, Any]:
    """Waits for the run to end; answers the thread's values (with `__interrupt__`)."""
    return await _join(rt, thread_id, run_id)


@router.post("/threads/{thread_id}/runs/wait", response_model=dict[str, Any], responses=_ERR)
async def wait(thread_id: IdPath, body: RunCreate, rt: Rt, who: Engineer) -> dict[str, Any]:
    run = await _create(rt, thread_id, body, who)
    return await _join(rt, thread_id, run.run_id)
