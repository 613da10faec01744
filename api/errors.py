"""API-only errors and the status code each error class answers with."""

from __future__ import annotations

from pydantic import BaseModel

from core.errors import FdeError, NotFoundError, PermissionDenied


class ErrorBody(BaseModel):
    detail: str
    hint: str = ""


ERRORS = {status: {"model": ErrorBody, "description": text} for status, text in (
    (400, "bad input: the message says what, the hint what to do"),
    (401, "no or unknown API token"), (403, "the token's role is not enough"),
    (404, "no such resource"), (409, "the resource's state forbids it"))}
"""Documented on every router: any endpoint may answer these through `status_for`."""


class Conflict(FdeError):
    """The request is valid but the resource's state forbids it (already decided, busy)."""


def status_for(exc: FdeError) -> int:
    from api.auth import Unauthenticated

    for cls, status in ((NotFoundError, 404), (PermissionDenied, 403), (Conflict, 409),
                        (Unauthenticated, 401)):
        if isinstance(exc, cls):
            return status
    return 400
