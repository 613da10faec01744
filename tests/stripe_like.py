"""A Stripe-compatible server that is not quite Stripe, for tests: a real HTTP proxy (uvicorn)
in front of the replica that answers some requests the way other servers do.

    with stripe_like_server(replica.url) as server:
        server.missing.add("/v1/prices*")          # 404, as an emulator without prices
        server.rejected_params.add("ending_before")  # 400 parameter_unknown
        server.forbidden["/v1/charges*"] = "rak_charge_read"  # 403, a restricted key
        gateway = StripeGateway(GatewayConfig(api_base=server.url, ...))

Everything else is forwarded to the replica unchanged (its data, ids, clock and ``Date``).
The error bodies are Stripe's shapes and wording, so the client sees what it would see from
Stripe on an account without the product, or with a restricted key.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.server_thread import ServerThread

_FORWARDED = ("authorization", "stripe-account", "stripe-version", "idempotency-key",
              "content-type")
_RETURNED = ("content-type", "date", "request-id", "stripe-version")


@dataclass
class StripeLike:
    upstream: str
    missing: set[str] = field(default_factory=set)  # fnmatch patterns over the path
    rejected_params: set[str] = field(default_factory=set)  # query names ("created" = created[…])
    forbidden: dict[str, str] = field(default_factory=dict)  # path pattern → rak_ permission
    url: str = ""
    seen: list[str] = field(default_factory=list)  # "GET /v1/events?…" as received

    def _error(self, status: int, message: str, **extra: str) -> Response:
        body = {"error": {"type": "invalid_request_error", "message": message, **extra}}
        return JSONResponse(body, status_code=status, headers={"Request-Id": "req_stripelike"})

    def _refusal(self, request: Request) -> Response | None:
        path, method = request.url.path, request.method
        if any(fnmatch.fnmatchcase(path, p) for p in self.missing):
            return self._error(404, f"Unrecognized request URL ({method}: {path}). Please see "
                                    "https://stripe.com/docs or we can help at "
                                    "https://support.stripe.com/.")
        for pattern, permission in self.forbidden.items():
            if fnmatch.fnmatchcase(path, pattern):
                return self._error(
                    403, "The provided key 'rk_test_*****************************abcd' does "
                         "not have the required permissions for this endpoint on account "
                         f"'acct_stripelike'. Having the '{permission}' permission would "
                         "allow this request to continue.")
        for name, _ in parse_qsl(request.url.query, keep_blank_values=True):
            base = name.split("[", 1)[0]
            if base in self.rejected_params:
                return self._error(400, f"Received unknown parameter: {name}",
                                   code="parameter_unknown", param=name)
        return None

    async def handle(self, request: Request) -> Response:
        query = f"?{request.url.query}" if request.url.query else ""
        self.seen.append(f"{request.method} {request.url.path}{query}")
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        headers = {k: v for k, v in request.headers.items() if k.lower() in _FORWARDED}
        async with httpx.AsyncClient(base_url=self.upstream, timeout=30) as client:
            answer = await client.request(request.method, request.url.path + query,
                                          content=await request.body(), headers=headers)
        kept = {k: v for k, v in answer.headers.items() if k.lower() in _RETURNED}
        return Response(answer.content, status_code=answer.status_code, headers=kept)


@contextmanager
def stripe_like_server(upstream: str) -> Iterator[StripeLike]:
    state = StripeLike(upstream=upstream)
    app = Starlette(routes=[Route("/{path:path}", state.handle,
                                  methods=["GET", "POST", "DELETE"])])
    with ServerThread(app, date_header=False) as server:
        state.url = server.url
        yield state
