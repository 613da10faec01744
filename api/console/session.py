"""Console sessions: after login with an API token the browser holds an HttpOnly,
SameSite=Strict cookie sealed with the service's secret key (Fernet: encrypted and
authenticated, so it can be neither read nor forged). It carries a random session id — never
the token — an expiry and the session's CSRF token. The session itself lives server-side
(`api_console_sessions`: the id's hash, the token's hash, expiry, end): logout ends it for
good, so a copied cookie stops working, and each request looks the token's hash up again,
so revoking the API token ends its console sessions too; roles are the API's roles.

Forms echo the CSRF token in a hidden field; a POST whose field does not match the cookie's
is refused (the SameSite cookie already keeps other sites out; this is the second lock).
The login form, before any session exists, has its own double-submit token: a random value
in a short-lived HttpOnly cookie scoped to the login path and the same value in the form."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from api.auth import Principal, Role, authenticate
from api.tables import console_sessions, tokens
from core.errors import ConfigError, PermissionDenied
from core.secrets import SecretBox, secret_box

__all__ = ["COOKIE", "ConsoleUser", "LoginRequired", "end", "login_csrf_ok", "set_login_csrf",
           "start", "user"]

COOKIE = "fde_console"
LOGIN_COOKIE = "fde_console_login"
LIFETIME_SECONDS = 12 * 3600
LOGIN_FORM_SECONDS = 3600


class LoginRequired(Exception):
    """No (valid) session: the page answers with a redirect to the login form."""


@dataclass(frozen=True)
class ConsoleUser:
    principal: Principal
    csrf: str
    session_id: str

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


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _cookie(response: Response, request: Request, name: str, value: str, *, path: str,
            max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path=path, httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")


def set_login_csrf(request: Request, response: Response, value: str) -> None:
    """The login form's token, also set in its own cookie (double submit)."""
    _cookie(response, request, LOGIN_COOKIE, value, path="/console/login",
            max_age=LOGIN_FORM_SECONDS)


def login_csrf_ok(request: Request, sent: str | None) -> bool:
    expected = request.cookies.get(LOGIN_COOKIE)
    return bool(expected and sent) and hmac.compare_digest(str(sent), expected)


def start(request: Request, response: Response, token: str) -> Principal | None:
    """Check the pasted API token; when it is good, open a session and set its cookie."""
    sid = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with request.app.state.db.session() as session:
        principal = authenticate(session, token)
        if principal is None:
            return None
        session.execute(console_sessions.insert().values(
            id=_digest(sid), token_hash=_digest(token), created_at=now,
            expires_at=now + timedelta(seconds=LIFETIME_SECONDS), ended_at=None))
    body = {"s": sid, "c": secrets.token_urlsafe(24),
            "exp": int(time.time()) + LIFETIME_SECONDS}
    _cookie(response, request, COOKIE, _box(request).seal(json.dumps(body)), path="/console",
            max_age=LIFETIME_SECONDS)
    response.delete_cookie(LOGIN_COOKIE, path="/console/login", httponly=True,
                           samesite="strict")
    return principal


def end(request: Request, response: Response, who: ConsoleUser) -> None:
    """Logout: the session ends server-side (its cookie is worthless from now on)."""
    with request.app.state.db.session() as session:
        session.execute(console_sessions.update().where(
            console_sessions.c.id == _digest(who.session_id),
            console_sessions.c.ended_at.is_(None)).values(ended_at=datetime.now(UTC)))
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
    sid = body.get("s")
    if not isinstance(sid, str) or not sid:
        return None  # a cookie from before server-side sessions: log in again
    with request.app.state.db.session() as session:
        row = session.execute(
            sa.select(tokens.c.name, tokens.c.role, console_sessions.c.expires_at)
            .join(console_sessions, console_sessions.c.token_hash == tokens.c.token_hash)
            .where(console_sessions.c.id == _digest(sid),
                   console_sessions.c.ended_at.is_(None), tokens.c.revoked_at.is_(None))
        ).first()
    if row is None:
        return None
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    if expires < datetime.now(UTC):
        return None
    return ConsoleUser(Principal(name=row.name, role=row.role), csrf=str(body.get("c", "")),
                       session_id=sid)


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
