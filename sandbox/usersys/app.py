"""The company's webhook app: FastAPI, raw-body signature check, one transaction per event.

    POST /webhooks/stripe   verify ``Stripe-Signature`` over the raw body with any configured
                            secret (rotation), apply the event, answer 200 (500 when the
                            handler failed, so Stripe retries; 400 on a bad signature)
    GET  /state             row counts per table (read-only, for demos)
    GET  /healthz
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import stripe
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, SecretStr, field_validator
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker
from starlette.concurrency import run_in_threadpool

from sandbox.bugs import parse_bugs
from sandbox.usersys.handler import HandlerOutcome, apply_event
from sandbox.usersys.models import TABLES, create_schema, make_engine

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


class HandlerAppConfig(BaseModel):
    database_url: str
    webhook_secrets: list[SecretStr] = Field(min_length=1)
    bugs: frozenset[str] = frozenset()
    tolerance: int = Field(default=300, ge=0, description="signature age limit, seconds")
    expected_livemode: bool | None = Field(
        default=None, description="ignore events of the other mode (None: accept both)"
    )

    @field_validator("bugs", mode="before")
    @classmethod
    def _parse_bugs(cls, value: Any) -> frozenset[str]:
        return parse_bugs(value)


def _verify(payload: bytes, header: str | None, secrets: list[SecretStr], tolerance: int) -> bool:
    # verify_header checks only the signature: the body is parsed once, by the caller
    # (construct_event would parse it again into a StripeObject nobody reads).
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(payload, header, secret.get_secret_value(),
                                                  tolerance)
            return True
        except stripe.SignatureVerificationError:
            continue
    return False


def create_handler_app(config: HandlerAppConfig, *, clock: Clock | None = None) -> FastAPI:
    """`clock` gives the processing time (the world's time when a generator drives it)."""
    engine = make_engine(config.database_url)
    sessions = sessionmaker(engine, expire_on_commit=False)
    now = clock or (lambda: datetime.now(UTC))
    # SQLite has one writer, so events are applied by one thread, in arrival order: threads of
    # a pool would only queue on a lock (and fail lock upgrades without it), handing the GIL
    # round between them. PostgreSQL takes concurrent transactions: the shared pool.
    writer: ThreadPoolExecutor | None = None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        nonlocal writer
        create_schema(engine)
        if engine.dialect.name == "sqlite":
            writer = ThreadPoolExecutor(1, thread_name_prefix="usersys-writer")
        try:
            yield
        finally:
            if writer is not None:
                writer.shutdown()
            engine.dispose()

    app = FastAPI(title="sample company webhook app", lifespan=lifespan)

    def process(event: dict[str, Any]) -> HandlerOutcome:
        session = sessions()
        try:
            outcome = apply_event(session, event, bugs=config.bugs, now=now(),
                                  expected_livemode=config.expected_livemode)
            if outcome.status == "failed":
                session.rollback()
            else:
                session.commit()
            return outcome
        except IntegrityError as exc:  # a concurrent delivery of the same event won
            session.rollback()
            return HandlerOutcome(event_id=event["id"], event_type=event["type"],
                                  status="failed", detail=f"conflict: {exc.orig}")
        finally:
            session.close()

    async def apply(event: dict[str, Any]) -> HandlerOutcome:
        if writer is None:
            return await run_in_threadpool(process, event)
        return await asyncio.get_running_loop().run_in_executor(writer, process, event)

    @app.post("/webhooks/stripe")
    async def stripe_webhook(request: Request) -> JSONResponse:
        raw = await request.body()
        payload = raw
        if "FM-01" in config.bugs:
            # FM-01: the body went through a JSON parser first; what gets verified is a
            # re-serialisation, not the bytes Stripe signed.
            try:
                payload = json.dumps(json.loads(raw)).encode()
            except ValueError:
                return JSONResponse({"error": "invalid JSON"}, status_code=400)
        header = request.headers.get("stripe-signature")
        if not _verify(payload, header, config.webhook_secrets, config.tolerance):
            log.warning("webhook signature verification failed")
            return JSONResponse({"error": "signature verification failed"}, status_code=400)
        try:
            event = json.loads(payload)
        except ValueError:
            return JSONResponse({"error": "invalid JSON"}, status_code=400)
        outcome = await apply(event)
        code = 500 if outcome.status == "failed" else 200
        return JSONResponse(
            {"received": True, "status": outcome.status, "detail": outcome.detail},
            status_code=code,
        )

    @app.get("/state")
    def state() -> dict[str, int]:
        with sessions() as session:
            return {
                table.name: session.scalar(select(func.count()).select_from(table)) or 0
                for table in TABLES
            }

    @app.get("/healthz")
    def healthz() -> dict[str, bool]:
        return {"ok": True}

    return app


__all__ = ["HandlerAppConfig", "create_handler_app"]
