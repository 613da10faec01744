"""Login (paste an API token → session cookie; the form carries its own CSRF token) and
logout (the session ends server-side)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from api.console import session
from api.console.render import console_router, page
from api.console.session import PostViewer

router = console_router()


def _safe_next(target: str | None) -> str:
    # only our own pages: an absolute or protocol-relative URL here would be an open redirect
    if target and target.startswith("/console/") and not target.startswith("//"):
        return target
    return "/console/"


def _form(request: Request, next_page: str, status_code: int = 200, **context: str
          ) -> HTMLResponse:
    csrf = secrets.token_urlsafe(24)
    response = page(request, "login.html", None, status_code=status_code, next=next_page,
                    csrf=csrf, **context)
    session.set_login_csrf(request, response, csrf)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> HTMLResponse:  # noqa: A002
    return _form(request, _safe_next(next))


@router.post("/login")
def login(request: Request, token: Annotated[str, Form(max_length=512)],
          next: Annotated[str | None, Form(max_length=2048)] = None,  # noqa: A002
          csrf: Annotated[str | None, Form(max_length=128)] = None) -> Response:
    if not session.login_csrf_ok(request, csrf):
        # a login form posted from anywhere but our own page (login CSRF would sign the
        # victim into the attacker's account)
        return _form(request, _safe_next(next), status_code=403,
                     error="the login form's CSRF token is missing or stale",
                     hint="reload the login page and submit the form again")
    response = RedirectResponse(_safe_next(next), 303)
    if session.start(request, response, token.strip()) is None:
        return _form(request, _safe_next(next), status_code=401,
                     error="the API token is unknown or revoked",
                     hint="paste a token from `fde users create NAME --role ROLE`")
    return response


@router.post("/logout")
def logout(request: Request, who: PostViewer) -> RedirectResponse:
    response = RedirectResponse("/console/login", 303)
    session.end(request, response, who)
    return response
