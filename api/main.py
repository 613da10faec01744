"""The FastAPI application, assembled from one router per resource."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from api.routes import health, webhooks
from core.errors import FdeError, NotFoundError, PermissionDenied
from core.ids import new_id
from core.logging import get_logger
from core.settings import Settings
from core.storage import Database, open_database

log = get_logger("api")


def create_app(settings: Settings, *, database: Database | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.db = database or open_database(settings)
        yield
        if database is None:
            app.state.db.dispose()

    app = FastAPI(title="fde-ops", version=health.VERSION, lifespan=lifespan)
    app.state.settings = settings
    app.include_router(health.router)
    app.include_router(webhooks.router)

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
        status = 404 if isinstance(exc, NotFoundError) else 403 if isinstance(
            exc, PermissionDenied) else 400
        return JSONResponse({"detail": exc.message, "hint": exc.hint}, status_code=status)

    return app
