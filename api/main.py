"""The FastAPI application, assembled from one router per resource."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api import console
from api.errors import ERRORS, status_for
from api.routes import (
    assistants,
    autopilot,
    engagements,
    escalations,
    health,
    maps,
    metrics,
    recon,
    runs,
    shadow,
    signals,
    threads,
    triage,
    users,
    webhooks,
    workspace,
)
from api.runs.runtime import Runtime
from core.errors import FdeError
from core.ids import new_id
from core.logging import get_logger
from core.settings import Settings
from core.storage import Database, open_database

log = get_logger("api")


def create_app(settings: Settings, *, database: Database | None = None,
               workers: int | None = None) -> FastAPI:
    """``workers``: run workers in this process (default FDE_API_WORKERS; 0 = none)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.db = database or open_database(settings)
        runtime = Runtime(settings, app.state.db)
        app.state.runtime = runtime.open(
            workers=settings.api_workers if workers is None else workers)
        # Events stored (and answered 2xx) by a process that died before processing them
        # are processed now, off the startup path.
        backlog = asyncio.create_task(
            asyncio.to_thread(webhooks.app_processor(app).drain_backlog))
        try:
            yield
        finally:
            await asyncio.wait([backlog], timeout=30)
            await runtime.close()
            if database is None:
                app.state.db.dispose()

    app = FastAPI(title="fde-ops", version=health.VERSION, lifespan=lifespan)
    app.state.settings = settings
    for module in (health, webhooks, assistants, threads, runs, escalations, triage,
                   engagements, recon, maps, metrics, shadow, signals, workspace, users):
        app.include_router(module.router, responses=ERRORS)
    app.include_router(autopilot.router, responses=ERRORS)
    console.install(app)

    @app.middleware("http")
    async def _request_log(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request_id = request.headers.get("x-request-id") or new_id("req")
        started = time.perf_counter()
        response = await call_next(request)
        response.headers["x-request-id"] = request_id
        log.info("request", method=request.method, path=request.url.path,
                 status=response.status_code, request_id=request_id,
                 ms=round((time.perf_counter() - started) * 1000, 1))
        return response

    @app.exception_handler(FdeError)
    async def _fde_error(_: Request, exc: FdeError) -> JSONResponse:
        return JSONResponse({"detail": exc.message, "hint": exc.hint},
                            status_code=status_for(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()))
            problems.append(f"{where}: {err.get('msg')}")
        return JSONResponse({"detail": "invalid request: " + "; ".join(problems),
                             "hint": "see the OpenAPI schema at /docs for the expected shape",
                             "errors": [{"loc": list(e.get("loc", ())), "msg": e.get("msg"),
                                         "type": e.get("type")} for e in exc.errors()]},
                            status_code=422)

    return app
