"""`/assistants/search`, `/assistants/{id}`: the graphs a run can name."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from api.deps import IdPath, Rt, Viewer
from api.runs.models import Assistant, AssistantSearch
from api.runs.service import UnknownAssistant

router = APIRouter(tags=["assistants"])
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def _all(rt: Rt) -> list[Assistant]:
    return [Assistant(assistant_id=s.assistant_id, graph_id=s.assistant_id,
                      name=s.assistant_id, description=s.description,
                      created_at=_EPOCH, updated_at=_EPOCH) for s in rt.assistants.values()]


@router.post("/assistants/search", response_model=list[Assistant])
def search(body: AssistantSearch, rt: Rt, _: Viewer) -> list[Assistant]:
    found = [a for a in _all(rt) if body.graph_id in (None, a.graph_id)
             and body.name in (None, a.name)]
    return found[body.offset:body.offset + body.limit]


@router.get("/assistants/{assistant_id}", response_model=Assistant,
            responses={404: {"description": "unknown assistant"}})
def get(assistant_id: IdPath, rt: Rt, _: Viewer) -> Assistant:
    for a in _all(rt):
        if a.assistant_id == assistant_id:
            return a
    raise UnknownAssistant(f"no assistant {assistant_id!r}")
