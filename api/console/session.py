"""Console sessions: after login with an API token the browser holds an HttpOnly,
SameSite=Strict cookie sealed with the service's secret key (Fernet: encrypted and
authenticated, so it can be neither read nor forged). It carries the token's hash — never
the token — an expiry and the session's CSRF token. Each request looks the hash up again,
so revoking the API token ends its console sessions too; roles are the API's roles.

Forms echo the CSRF token in a hidden field; a POST whose field does not match the cookie's
is refused (the SameSite cookie already keeps other sites out; this is the second lock)."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from api.auth import Principal, Role, authenticate
from api.tables import tokens
from core.errors import ConfigError, PermissionDenied
from core.secrets import SecretBox, secret_box

__all__ = ["COOKIE", "ConsoleUser", "LoginRequired", "end", "start", "user"]

COOKIE = "fde_console"
LIFETIME_SECONDS = 12 * 3600


class LoginRequired(Exception):
    """No (valid) session: the page answers with a redirect to the login form."""


@dataclass(frozen=True)
class ConsoleUser:
    principal: Principal
    csrf: str

    @property
    def name(self) -> str:
        return self.principal.name

    @property
    def role(self) -> str:
        return self.principal.role


def _box(request: Request) -> SecretBox:
    box = getattr(request.app.state, "console_box", None)
    if box is None:
        box = request.app.state.console_box = secret_box(request.app.state.settings)
    return box


def start(request: Request, response: Response, token: str) -> Principal | None:
    """Check the pasted API token; when it is good, set the session cookie."""
    with request.app.state.db.session() as session:
        principal = authenticate(session, token)
    if principal is None:
        return None
    body = {"h": hashlib.sha256(token.encode()).hexdigest(), "c": secrets.token_urlsafe(24),
            "exp": int(time.time()) + LIFETIME_SECONDS}
    response.set_cookie(COOKIE, _box(request).seal(json.dumps(body)), max_age=LIFETIME_SECONDS,
                        path="/console", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return principal


def end(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/console", httponly=True, samesite="strict")


def _session_user(request: Request) -> ConsoleUser | None:
    sealed = request.cookies.get(COOKIE)
    if not sealed:
        return None
    try:
        body = json.loads(_box(request).open(sealed))
    except (ConfigError, ValueError):
        return None  # sealed under another key, or tampered with: log in again
    if not isinstance(body, dict) or body.get("exp", 0) < time.time():
        return None
    with request.app.state.db.session() as session:
        row = session.execute(sa.select(tokens.c.name, tokens.c.role).where(
            tokens.c.token_hash == body.get("h"), tokens.c.revoked_at.is_(None))).first()
    if row is None:
        return None
    return ConsoleUser(Principal(name=row.name, role=row.role), csrf=str(body.get("c", "")))


def user(role: Role, *, form: bool = False):  # noqa: ANN201 - a FastAPI dependency
    """Dependency: the logged-in user, holding at least ``role``. ``form=True`` for POSTs:
    the form's `csrf` field must match the session's."""

    async def dependency(request: Request) -> ConsoleUser:
        who = await run_in_threadpool(_session_user, request)
        if who is None:
            raise LoginRequired
        if form:
            sent = (await request.form()).get("csrf")
            if not isinstance(sent, str) or not hmac.compare_digest(sent, who.csrf):
                raise PermissionDenied("the form's CSRF token is missing or stale",
                                       hint="reload the page and submit the form again")
        if not who.principal.at_least(role):
            raise PermissionDenied(f"this needs the {role} role; {who.name} is a {who.role}",
                                   hint="ask an admin for a token with that role "
                                   "(`fde users create NAME --role ROLE`)")
        return who

    return dependency


PageViewer = Annotated[ConsoleUser, Depends(user("viewer"))]
PostEngineer = Annotated[ConsoleUser, Depends(user("engineer", form=True))]
PostViewer = Annotated[ConsoleUser, Depends(user("viewer", form=True))]
