"""Rendering for the console: the Jinja2 environment, the page helper, and the route class
that turns errors into HTML pages (a missing session → the login form; a role or CSRF
failure → 403; bad input → 400 naming what was wrong) instead of the API's JSON."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from api.console.session import ConsoleUser, LoginRequired
from api.errors import status_for
from core.errors import FdeError
from core.money import Money

__all__ = ["STATIC", "console_router", "money", "page"]

HERE = Path(__file__).parent
STATIC = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")

# Pages load scripts and styles only from the console itself; the stored reports' inline
# <style> blocks are the one exception, and nothing may frame the console.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store"}


def money(amount: Any, currency: Any) -> str:
    """Minor units rendered with the currency table; anything unparseable says what it is."""
    try:
        return Money(amount=amount, currency=currency).format()
    except (ValueError, TypeError):
        return f"{amount} {currency or ''} (minor units, unknown currency)".strip()


templates.env.globals["money"] = money


def page(request: Request, name: str, who: ConsoleUser | None, status_code: int = 200,
         **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"who": who, **context},
                                      status_code=status_code)


def error_page(request: Request, status: int, message: str, hint: str = "") -> HTMLResponse:
    return page(request, "error.html", None, status_code=status, status=status,
                message=message, hint=hint)


def _problems(exc: RequestValidationError | ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body')}: "
                     f"{e.get('msg')}" for e in exc.errors())


class ConsoleRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                response = await handler(request)
            except LoginRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query
                                             else "")
                response = RedirectResponse(f"/console/login?next={quote(target)}", 303)
            except FdeError as exc:
                response = error_page(request, status_for(exc), exc.message, exc.hint)
            except (RequestValidationError, ValidationError) as exc:
                response = error_page(request, 400, "invalid form: " + _problems(exc),
                                      "fill in the fields the message names and submit again")
            for key, value in SECURITY_HEADERS.items():
                response.headers.setdefault(key, value)
            return response

        return guarded


def console_router() -> APIRouter:
    """Every console router: HTML only (not in the OpenAPI contract), errors as pages."""
    return APIRouter(route_class=ConsoleRoute, include_in_schema=False)
