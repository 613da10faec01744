"""FastAPI dependency aliases: the runtime, the database, the caller's role."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from api.auth import Approver, Engineer, Principal, Viewer, require
from api.runs.models import ID_PATTERN
from api.runs.runtime import Runtime
from core.storage import Database

__all__ = ["Approver", "Db", "Engineer", "IdPath", "NamePath", "Principal", "Rt", "Viewer",
           "require"]


def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def _db(request: Request) -> Database:
    return request.app.state.db


Rt = Annotated[Runtime, Depends(_runtime)]
Db = Annotated[Database, Depends(_db)]

# Ids and names in paths are client-chosen: bounded (a clear 422 naming the parameter), so a
# megabyte-long id never reaches a query, a log line or a stored row.
IdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
NamePath = Annotated[str, Path(min_length=1, max_length=64)]
