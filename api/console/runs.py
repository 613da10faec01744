"""A run as it happens (the page follows the run's event stream: node updates, tool calls
and results, the final status) and the chat page that asks the investigate assistant."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Header, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sse_starlette import EventSourceResponse

from api.console.render import console_router, page
from api.console.session import PageViewer, PostEngineer
from api.deps import Rt
from api.runs import events, service, store
from api.runs.models import RunCreate
from api.runs.stream import stream_response
from core import engagements
from core.errors import ConfigError
from core.ids import new_id

router = console_router()
MODES = ["values", "updates", "custom", "messages"]
CHAT = "investigate"


@router.get("/threads/{thread_id}/runs/{run_id}", response_class=HTMLResponse)
def run_view(thread_id: str, run_id: str, request: Request, rt: Rt,
             who: PageViewer) -> HTMLResponse:
    with rt.db.session() as session:
        run = store.get_run(session, thread_id, run_id)
        thread = store.get_thread(session, thread_id)
    return page(request, "run.html", who, run=run, thread=thread)


@router.get("/threads/{thread_id}/runs/{run_id}/events")
def run_events(thread_id: str, run_id: str, rt: Rt, _: PageViewer,
               last_event_id: Annotated[str | None, Header()] = None) -> EventSourceResponse:
    """The run's stream for the page's EventSource (which reconnects with Last-Event-ID)."""
    with rt.db.session() as session:
        store.get_run(session, thread_id, run_id)
    return stream_response(rt, thread_id, run_id, modes=MODES,
                           after=events.parse_event_id(run_id, last_event_id))


def _messages(rt: Any, thread_id: str) -> list[dict[str, Any]]:
    with rt.db.session() as session:
        values = service.thread_state(rt, session, thread_id).values
    return [m for m in values.get("messages") or [] if isinstance(m, dict)
            and m.get("type") in ("human", "ai") and m.get("content")]


@router.get("/chat", response_class=HTMLResponse)
def chat(request: Request, rt: Rt, who: PageViewer, thread: str | None = None) -> HTMLResponse:
    with rt.db.session() as session:
        names = [e.name for e in engagements.list_all(session)]
        found = store.get_thread(session, thread) if thread else None
        if thread and store.thread_assistant(session, thread) not in (None, CHAT):
            raise ConfigError(f"thread {thread} is not a chat thread",
                              hint="open the chat page without a thread to start one")
    return page(request, "chat.html", who, names=names, thread=found,
                messages=_messages(rt, found.thread_id) if found else [])


@router.post("/chat")
def ask(rt: Rt, who: PostEngineer, message: Annotated[str, Form(min_length=1, max_length=4000)],
        engagement: Annotated[str, Form(min_length=1, max_length=64)],
        thread: Annotated[str | None, Form()] = None,
        sync: Annotated[bool, Form()] = False) -> RedirectResponse:
    with rt.db.session() as session:
        engagements.get(session, engagement)
        if not thread:
            thread = new_id("thr")
            store.insert_thread(session, thread, {"engagement": engagement,
                                                  "source": "console"})
        run = service.create_run(rt, session, thread, RunCreate(
            assistant_id=CHAT, stream_mode=MODES, context={"sync": sync},
            input={"engagement": engagement,
                   "messages": [{"role": "user", "content": message}]}), who.principal)
    rt.wake()
    return RedirectResponse(f"/console/threads/{thread}/runs/{run.run_id}", 303)
