"""`/threads`: create, get, search, state and history (read from the checkpointer)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import IntegrityError

from api.deps import Db, Engineer, IdPath, Rt, Viewer
from api.errors import Conflict
from api.runs import service, store
from api.runs.models import HistoryRequest, Thread, ThreadCreate, ThreadSearch, ThreadState
from core.ids import new_id

router = APIRouter(tags=["threads"])
_404 = {404: {"description": "unknown thread"}}


@router.post("/threads", response_model=Thread, responses={409: {"description": "exists"}})
def create(body: ThreadCreate, db: Db, _: Engineer) -> Thread:
    thread_id = body.thread_id or new_id("thr")
    with db.session() as session:
        existing = store.find_thread(session, thread_id)
        if existing is not None:
            if body.if_exists == "do_nothing":
                return existing
            raise Conflict(f"thread {thread_id!r} already exists",
                           hint='pass if_exists="do_nothing" to get it back instead')
    try:
        with db.session() as session:
            return store.insert_thread(session, thread_id, body.metadata)
    except IntegrityError:
        raise Conflict(f"thread {thread_id!r} already exists") from None


@router.get("/threads/{thread_id}", response_model=Thread, responses=_404)
def get(thread_id: IdPath, db: Db, _: Viewer) -> Thread:
    with db.session() as session:
        return store.get_thread(session, thread_id)


@router.post("/threads/search", response_model=list[Thread])
def search(body: ThreadSearch, db: Db, _: Viewer) -> list[Thread]:
    with db.session() as session:
        return store.search_threads(session, metadata=body.metadata, status=body.status,
                                    limit=body.limit, offset=body.offset)


@router.get("/threads/{thread_id}/state", response_model=ThreadState, responses=_404)
async def state(thread_id: IdPath, rt: Rt, _: Viewer) -> ThreadState:
    def read() -> ThreadState:
        with rt.db.session() as session:
            return service.thread_state(rt, session, thread_id)
    return await run_in_threadpool(read)


@router.post("/threads/{thread_id}/history", response_model=list[ThreadState], responses=_404)
async def history(thread_id: IdPath, body: HistoryRequest, rt: Rt, _: Viewer
                  ) -> list[ThreadState]:
    def read() -> list[ThreadState]:
        with rt.db.session() as session:
            return service.thread_history(rt, session, thread_id, body.limit)
    return await run_in_threadpool(read)
