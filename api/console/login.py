"""Login (paste an API token → session cookie) and logout."""

from __future__ import annotations

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


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> HTMLResponse:  # noqa: A002
    return page(request, "login.html", None, next=_safe_next(next))


@router.post("/login")
def login(request: Request, token: Annotated[str, Form(max_length=512)],
          next: Annotated[str | None, Form()] = None) -> Response:  # noqa: A002
    response = RedirectResponse(_safe_next(next), 303)
    if session.start(request, response, token.strip()) is None:
        return page(request, "login.html", None, status_code=401, next=_safe_next(next),
                    error="the API token is unknown or revoked",
                    hint="paste a token from `fde users create NAME --role ROLE`")
    return response


@router.post("/logout")
def logout(_: PostViewer) -> RedirectResponse:
    response = RedirectResponse("/console/login", 303)
    session.end(response)
    return response
