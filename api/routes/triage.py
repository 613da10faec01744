"""`POST /triage`: queue a triage run for a ticket on a new thread; answer its ids (follow
it on `GET /threads/{thread_id}/runs/{run_id}/stream`)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.deps import Engineer, Rt
from api.runs import service, store
from api.runs.models import RunCreate
from core import engagements
from core.ids import new_id

router = APIRouter(tags=["triage"])


class TriageRequest(BaseModel):
    ticket: str = Field(min_length=1, max_length=20_000, description="the user's words")
    engagement: str = Field(min_length=1, max_length=64)
    sync: bool = Field(default=True, description="sync the Stripe snapshot first")


class TriageQueued(BaseModel):
    thread_id: str
    run_id: str
    stream_url: str


@router.post("/triage", response_model=TriageQueued, status_code=202,
             responses={400: {"description": "bad input"},
                        404: {"description": "unknown engagement"}})
async def triage(body: TriageRequest, rt: Rt, who: Engineer) -> TriageQueued:
    def queue() -> TriageQueued:
        with rt.db.session() as session:
            engagements.get(session, body.engagement)
            thread_id = new_id("thr")
            store.insert_thread(session, thread_id, {"engagement": body.engagement,
                                                     "source": "triage"})
            run = service.create_run(rt, session, thread_id, RunCreate(
                assistant_id="triage", stream_mode=["values", "updates", "custom"],
                input={"ticket": body.ticket, "engagement": body.engagement},
                context={"sync": body.sync}), who)
        return TriageQueued(thread_id=thread_id, run_id=run.run_id,
                            stream_url=f"/threads/{thread_id}/runs/{run.run_id}/stream")
    queued = await run_in_threadpool(queue)
    rt.wake()
    return queued
