"""One API request, start to finish: auth → account → faults → params → idempotency →
handler in one transaction → expand → response; then webhooks, then the request log.

Every response carries ``Request-Id``, ``Stripe-Version`` and ``Date`` (the replica's clock,
as Stripe's servers send theirs: clients take "now" from it). A faulted request stops
before parameters are read, so it changes nothing. Idempotency (POST with
``Idempotency-Key``, scoped per account): the first answer's status and exact body bytes
are stored in the same transaction as the writes and replayed with ``Idempotent-Replayed:
true``; the same key with other parameters is a 400 ``idempotency_error``. Only answers
that executed are stored (2xx, or errors a handler raised with ``commit=True`` such as a
card decline that also recorded a failed charge); validation errors are not, as Stripe.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sandbox.replica import requestlog
from sandbox.replica.auth import api_key, resolve_account
from sandbox.replica.engine import Engine
from sandbox.replica.errors import ApiError, unrecognized_url
from sandbox.replica.expand import expand
from sandbox.replica.faults import fault_error
from sandbox.replica.forms import decode
from sandbox.replica.registry import RouteDef

log = logging.getLogger(__name__)


def dumps(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, indent=2).encode()


def _fingerprint(method: str, path: str, params: dict[str, Any]) -> str:
    raw = json.dumps([method, path, params], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def _idempotency_conflict(key: str) -> ApiError:
    return ApiError(
        400,
        "Keys for idempotent requests can only be used with the same parameters they were "
        f"first used with. Try using a key other than '{key}' if you meant to execute a "
        "different request.",
        type="idempotency_error",
    )


async def _params(request: Request) -> dict[str, Any]:
    params = decode(request.url.query)
    if request.method == "POST":
        params.update(decode(await request.body()))
    return params


async def handle(engine: Engine, route: RouteDef | None, request: Request) -> Response:
    method, path = request.method, request.url.path
    request_id = engine.ids.request_id()
    version = request.headers.get("stripe-version") or engine.config.api_version
    idem = request.headers.get("idempotency-key") if method == "POST" else None
    account: str | None = None
    fault: str | None = None
    replayed = False
    headers = {"Request-Id": request_id, "Stripe-Version": version,
               "Date": formatdate(engine.clock.now(), usegmt=True)}
    if idem:
        headers["Idempotency-Key"] = idem
    try:
        api_key(request.headers.get("authorization"))
        account = resolve_account(
            engine.store, engine.config.platform_account, request.headers.get("stripe-account")
        )
        if route is None:
            raise unrecognized_url(method, path)
        rule = engine.faults.pick(method, path)
        if rule is not None:
            fault = rule.kind
            if rule.kind == "latency":
                await asyncio.sleep(rule.latency_ms / 1000)
            else:
                raise fault_error(rule)
        params = await _params(request)
        status, body, extra, replayed = _execute(engine, route, request, account, params,
                                                 request_id, idem, version)
        headers.update(extra)
    except ApiError as exc:
        status, body = exc.status, dumps(exc.body())
        headers.update(exc.headers)
    except Exception:
        log.exception("replica handler crashed on %s %s", method, path)
        status = 500
        body = dumps(ApiError(500, "An unknown error occurred", type="api_error").body())
    requestlog.record(
        engine.store,
        requestlog.LoggedRequest(
            at=engine.clock.now(), method=method, path=path,
            route=route.path if route else "(unrecognized)", status=status, account=account,
            idempotency_key=idem, fault=fault, replayed=replayed, request_id=request_id,
            query=request.url.query, api_version=version,
        ),
    )
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def _execute(
    engine: Engine, route: RouteDef, request: Request, account: str, params: dict[str, Any],
    request_id: str, idem: str | None, version: str,
) -> tuple[int, bytes, dict[str, str], bool]:
    store = engine.store
    fingerprint = ""
    if idem:
        fingerprint = _fingerprint(request.method, request.url.path, params)
        since = engine.clock.now() - engine.config.idempotency_ttl
        stored = store.idempotency_get(account, idem, since)
        if stored is not None:
            if stored[0] != fingerprint:
                raise _idempotency_conflict(idem)
            extra = {"Idempotent-Replayed": "true", "Original-Request": stored[3] or ""}
            return stored[1], stored[2], extra, True
    ctx = engine.context(account, request_id=request_id, idempotency_key=idem,
                         api_version=version)
    extra: dict[str, str] = {}
    with store.transaction():
        try:
            result = route.handler(ctx, params, **request.path_params)
            status, body = 200, dumps(expand(ctx, result, params))
        except ApiError as exc:
            if not exc.commit:
                raise
            status, body, extra = exc.status, dumps(exc.body()), exc.headers
        if idem:
            store.idempotency_put(account, idem, fingerprint, status, body, engine.clock.now(),
                                  request_id)
    engine.deliver(ctx.events)
    return status, body, extra, False


def endpoint(engine: Engine, route: RouteDef | None) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        return await handle(engine, route, request)

    return run
