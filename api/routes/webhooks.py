"""`POST /webhooks/stripe/{engagement}`: the Stripe webhook receiver, plus the receiver's
own view of what it got (`GET /webhooks/stripe/{engagement}/events|edges`).

The receiver reads the raw body (capped), verifies `Stripe-Signature` over those exact bytes
with the engagement's secrets, stores the event once (dedupe by event id) and only then
answers 2xx; processing (live map health, incremental checks) runs after the answer from
the stored row. Bad or missing signature → 400 and nothing stored; body over the limit →
413; malformed JSON → 400. An unknown engagement and one without a signing secret answer
exactly like a signature that matches no secret (400, the same body): the receiver has no
token to check, so it must not tell a caller which engagement names exist. The operator
sees the real reason in the log.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.auth import Viewer
from api.deps import NamePath
from core import engagements
from core.errors import EngagementNotFound, FdeError
from core.logging import get_logger
from core.secrets import secret_box
from core.storage import Database
from tools.map.live import EdgeHealth, live_edges
from tools.webhooks import inbox
from tools.webhooks.inbox import InboxEvent
from tools.webhooks.processor import Processor
from tools.webhooks.secrets import active_secrets
from tools.webhooks.verify import (
    DEFAULT_TOLERANCE,
    BadSignature,
    MalformedEvent,
    parse_event,
    verify_signature,
)

router = APIRouter(tags=["webhooks"])
log = get_logger("api.webhooks")


class Received(BaseModel):
    received: bool
    event_id: str
    duplicate: bool


class BodyTooLarge(FdeError):
    pass


def _limit(request: Request) -> int:
    return int(request.app.state.settings.webhook_max_body_bytes)


def processor(request: Request) -> Processor:
    return app_processor(request.app)


def app_processor(app: Any) -> Processor:
    """One processor per app (built lazily so `create_app` stays unchanged)."""
    state = app.state
    proc = getattr(state, "webhook_processor", None)
    if proc is None:
        from tools.checks.incremental import run_on_events

        proc = Processor(state.db, hooks=[run_on_events])
        state.webhook_processor = proc
    return proc


async def _read_capped(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"body of {declared} bytes exceeds the {limit} byte limit")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"body exceeds the {limit} byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def _error(status: int, message: str, hint: str = "") -> JSONResponse:
    return JSONResponse({"detail": message, "hint": hint}, status_code=status)


def _secrets(db: Database, settings: object, name: str) -> list[str]:
    """The engagement's active secrets; none when it is unknown or has none (logged)."""
    with db.session() as session:
        try:
            engagements.get(session, name)
        except EngagementNotFound:
            log.warning("webhook for an unknown engagement", engagement=name)
            return []
        found = active_secrets(session, secret_box(settings), name)  # type: ignore[arg-type]
    if not found:
        log.warning("webhook for an engagement without a signing secret", engagement=name,
                    fix=f"fde engagement webhook-secret {name} --add")
    return found


@router.post("/webhooks/stripe/{engagement}", response_model=Received,
             responses={400: {}, 413: {}})
async def receive(
    engagement: NamePath,
    request: Request,
    background: BackgroundTasks,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> Received | JSONResponse:
    db: Database = request.app.state.db
    try:
        raw = await _read_capped(request, _limit(request))
    except BodyTooLarge as exc:
        return _error(413, exc.message, "Stripe events are far smaller; is this Stripe?")
    secrets = await run_in_threadpool(_secrets, db, request.app.state.settings, engagement)
    try:
        verify_signature(raw, stripe_signature, secrets, tolerance=DEFAULT_TOLERANCE)
        envelope = parse_event(raw)
    except (BadSignature, MalformedEvent) as exc:
        return _error(400, exc.message, exc.hint)

    def _store() -> inbox.StoreOutcome:
        with db.session() as session:
            return inbox.store_event(session, engagement, envelope, raw)

    outcome = await run_in_threadpool(_store)
    background.add_task(processor(request).drain, engagement)
    return Received(received=True, event_id=outcome.event_id, duplicate=outcome.duplicate)


@router.get("/webhooks/stripe/{engagement}/events", response_model=list[InboxEvent])
def received_events(engagement: NamePath, request: Request, _: Viewer,
                    since_seq: Annotated[int, Query(ge=0)] = 0,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[InboxEvent]:
    """Events the receiver stored for the engagement (bodies not included)."""
    with request.app.state.db.session() as session:
        engagements.get(session, engagement)
        return inbox.list_events(session, engagement, since_seq=since_seq, limit=limit)


@router.get("/webhooks/stripe/{engagement}/edges", response_model=list[EdgeHealth])
def edges(engagement: NamePath, request: Request, _: Viewer) -> list[EdgeHealth]:
    """Live health of the event-type → receiver edges of the integration map."""
    with request.app.state.db.session() as session:
        engagements.get(session, engagement)
        return live_edges(session, engagement)
