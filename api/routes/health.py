"""Liveness/readiness (/healthz) and what this server is (/info)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.auth import Viewer
from core.errors import StorageError
from core.storage import check_connection, schema_revision

try:
    VERSION = version("fde-ops")
except PackageNotFoundError:  # running from a source tree without installing
    VERSION = "0.0.0"

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str
    schema_revision: str | None


class Info(BaseModel):
    name: str
    version: str
    database_backend: str
    stripe_api_base: str
    flags: dict[str, bool]


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
def healthz(request: Request) -> Health | JSONResponse:
    db = request.app.state.db
    try:
        check_connection(db.engine)
        current, _ = schema_revision(db.engine)
    except StorageError:
        body = Health(status="unavailable", database="unreachable", schema_revision=None)
        return JSONResponse(body.model_dump(), status_code=503)
    return Health(status="ok", database="ok", schema_revision=current)


@router.get("/info", response_model=Info)
def info(request: Request, _: Viewer) -> Info:
    settings = request.app.state.settings
    return Info(
        name="fde-ops",
        version=VERSION,
        database_backend=request.app.state.db.engine.dialect.name,
        stripe_api_base=settings.stripe_api_base,
        # The flags LangGraph SDK clients look for: assistants are fixed graphs, resumes
        # are strict (a wrong interrupt id is refused), no crons, no LangSmith.
        flags={"assistants": True, "crons": False, "langsmith": False, "strict_resume": True},
    )
