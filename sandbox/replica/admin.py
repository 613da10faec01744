"""Admin endpoints under ``/_replica`` (JSON in, JSON out, no auth — the replica is local).

GET    /_replica/health                 platform account, api version, clock
GET    /_replica/faults                 current rules with their hit counts
POST   /_replica/faults                 add one rule (FaultRule JSON) or {"rules": [...]}
DELETE /_replica/faults                 remove every rule
GET    /_replica/requests               totals by route/status/fault (?since_seq=N, ?detail=1)
DELETE /_replica/requests               forget the request log
GET    /_replica/deliveries             webhook attempts (?event=evt_…, ?endpoint=we_…)
GET    /_replica/clock                  {"now", "frozen"}
POST   /_replica/clock                  {"advance": s} | {"set": ts} | {"freeze": bool};
                                        then runs the work that became due
GET    /_replica/due                    scheduled work (?pending=1)
POST   /_replica/snapshot               {"path": file}: save the whole state
POST   /_replica/restore                {"path": file}: load a saved state
POST   /_replica/bulk                   {"account"?, "objects": [...]}: store.bulk_insert
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.replica import requestlog
from sandbox.replica.config import FaultRule
from sandbox.replica.duework import DueWork
from sandbox.replica.engine import Engine
from sandbox.replica.webhooks import list_deliveries


def _bad(message: str) -> JSONResponse:
    return JSONResponse({"error": {"type": "invalid_request_error", "message": message}}, 400)


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    return json.loads(raw) if raw else {}


def routes(engine: Engine) -> list[Route]:
    async def health(request: Request) -> JSONResponse:
        return JSONResponse({
            "ok": True, "platform_account": engine.config.platform_account,
            "api_version": engine.config.api_version, "now": engine.clock.now(),
        })

    async def faults(request: Request) -> JSONResponse:
        if request.method == "DELETE":
            engine.faults.clear()
        elif request.method == "POST":
            body = await _json(request)
            try:
                rules = [FaultRule.model_validate(r) for r in body.get("rules", [body])]
            except ValidationError as exc:
                return _bad(str(exc))
            for rule in rules:
                engine.faults.add(rule)
        return JSONResponse({"rules": [r.model_dump() for r in engine.faults.rules]})

    async def requests(request: Request) -> JSONResponse:
        if request.method == "DELETE":
            requestlog.clear(engine.store)
            return JSONResponse({"ok": True})
        since = int(request.query_params.get("since_seq", 0))
        out = requestlog.totals(engine.store, since_seq=since)
        if request.query_params.get("detail"):
            out["entries"] = requestlog.entries(engine.store, since_seq=since)
        return JSONResponse(out)

    async def deliveries(request: Request) -> JSONResponse:
        data = list_deliveries(engine.store, event_id=request.query_params.get("event"),
                               endpoint_id=request.query_params.get("endpoint"))
        return JSONResponse({"data": data, "in_flight": engine.dispatcher.pending})

    async def clock(request: Request) -> JSONResponse:
        ran = 0
        if request.method == "POST":
            body = await _json(request)
            if "freeze" in body:
                engine.clock.freeze(bool(body["freeze"]))
            if "set" in body:
                engine.clock.set(int(body["set"]))
            if "advance" in body:
                if float(body["advance"]) < 0:
                    return _bad("the replica clock only moves forward with advance")
                engine.clock.advance(float(body["advance"]))
            engine.save_clock()
            ran = engine.run_due()
        return JSONResponse({"now": engine.clock.now(), "frozen": engine.clock.frozen, "ran": ran})

    async def due(request: Request) -> JSONResponse:
        pending = bool(request.query_params.get("pending"))
        return JSONResponse({"data": DueWork(engine.store).listing(pending_only=pending)})

    async def snapshot(request: Request) -> JSONResponse:
        body = await _json(request)
        if not body.get("path"):
            return _bad("path is required")
        if request.url.path.endswith("/restore"):
            engine.load_snapshot(body["path"])
        else:
            engine.save_snapshot(body["path"])
        return JSONResponse({"ok": True, "path": body["path"]})

    async def bulk(request: Request) -> JSONResponse:
        body = await _json(request)
        account = body.get("account") or engine.config.platform_account
        n = engine.store.bulk_insert(body.get("objects", []), account=account)
        return JSONResponse({"inserted": n})

    return [
        Route("/_replica/health", health, methods=["GET"]),
        Route("/_replica/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/_replica/requests", requests, methods=["GET", "DELETE"]),
        Route("/_replica/deliveries", deliveries, methods=["GET"]),
        Route("/_replica/clock", clock, methods=["GET", "POST"]),
        Route("/_replica/due", due, methods=["GET"]),
        Route("/_replica/snapshot", snapshot, methods=["POST"]),
        Route("/_replica/restore", snapshot, methods=["POST"]),
        Route("/_replica/bulk", bulk, methods=["POST"]),
    ]
