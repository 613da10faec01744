"""FastAPI dependency aliases: the runtime, the database, the caller's role."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.auth import Approver, Engineer, Principal, Viewer, require
from api.runs.runtime import Runtime
from core.storage import Database

__all__ = ["Approver", "Db", "Engineer", "Principal", "Rt", "Viewer", "require"]


def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def _db(request: Request) -> Database:
    return request.app.state.db


Rt = Annotated[Runtime, Depends(_runtime)]
Db = Annotated[Database, Depends(_db)]
