"""Admin endpoints under ``/_replica`` (JSON in, JSON out).

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
POST   /_replica/snapshot               {"path": file}: save the whole state (snapshot folder)
POST   /_replica/restore                {"path": file}: load a saved state (snapshot folder)
POST   /_replica/bulk                   {"account"?, "objects": [...]}: store.bulk_insert

Reads are open (the replica is local). Every write — each POST and DELETE above — needs the
same key the API takes (``Authorization: Bearer sk_test_…``, 401 otherwise) and a POST needs
``Content-Type: application/json`` (415 otherwise): a web page cannot send either
cross-site without a CORS preflight the replica never answers, so a page open in the
engineer's browser cannot drive the replica. A body that is not a JSON object, or a field of
the wrong type, is a 400 naming it. Snapshot paths name files in the replica's snapshot
folder (`ReplicaConfig.snapshots`: ``snapshots/`` beside its database), relative to it or
absolute; anything else is a 400, so the endpoints cannot write or read files elsewhere on
the machine, and a restore reads only a replica store.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.replica import requestlog
from sandbox.replica.auth import api_key
from sandbox.replica.config import FaultRule
from sandbox.replica.duework import DueWork
from sandbox.replica.engine import Engine
from sandbox.replica.errors import ApiError
from sandbox.replica.webhooks import list_deliveries

M = TypeVar("M", bound=BaseModel)
Handler = Callable[[Request], Awaitable[JSONResponse]]


class FaultsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[FaultRule]


class ClockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    advance: float | None = Field(default=None, ge=0,
                                  description="seconds; the replica clock only moves forward")
    set: int | None = Field(default=None, ge=0, description="unix time")
    freeze: bool | None = None


class SnapshotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, description="a file inside the replica's data dir")


class BulkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account: str | None = None
    objects: list[dict[str, Any]] = Field(default_factory=list)


def _authorized(request: Request) -> None:
    api_key(request.headers.get("authorization"))  # a Stripe-shaped 401 when absent or bad


async def _json_object(request: Request) -> dict[str, Any]:
    """The body of an authorized JSON write, as an object (or a 401/415/400 ApiError)."""
    _authorized(request)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        raise ApiError(415, "/_replica writes take a JSON body: send Content-Type: "
                            f"application/json (got {media or 'none'!r})")
    raw = await request.body()
    try:
        data = json.loads(raw) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(400, f"the body must be a JSON object, not {type(data).__name__}")
    return data


def _validated(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ApiError(400, f"invalid {where}: {first['msg']}", param=where) from None


def _snapshot_file(engine: Engine, given: str, *, must_exist: bool) -> Path:
    """`given` resolved inside the snapshot folder (symlinks followed), never the live
    database; for a restore, an existing replica store."""
    db = Path(engine.config.db_path).resolve()
    root = engine.config.snapshots
    path = (root / given).resolve()
    if not path.is_relative_to(root) or path == root:
        raise ApiError(400, f"snapshot files live in the replica's snapshot folder {root}; "
                            f"{given!r} is outside it", param="path")
    if path.parent == db.parent and path.name.startswith(db.name):
        raise ApiError(400, f"{given!r} is the replica's live database; name another file",
                       param="path")
    if must_exist:
        if not path.is_file():
            raise ApiError(404, f"no snapshot file {given!r} in {root}", param="path",
                           code="resource_missing")
        if not _is_replica_store(path):
            raise ApiError(400, f"{given!r} is not a replica snapshot (no replica tables)",
                           param="path")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _is_replica_store(path: Path) -> bool:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            names = {n for (n,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return False
    return {"objects", "events", "meta"} <= names


def _answering_errors(handler: Handler) -> Handler:
    async def guarded(request: Request) -> JSONResponse:
        try:
            return await handler(request)
        except ApiError as exc:
            return JSONResponse(exc.body(), exc.status, headers=exc.headers)
    return guarded


def routes(engine: Engine) -> list[Route]:
    async def health(request: Request) -> JSONResponse:
        return JSONResponse({
            "ok": True, "platform_account": engine.config.platform_account,
            "api_version": engine.config.api_version, "now": engine.clock.now(),
        })

    async def faults(request: Request) -> JSONResponse:
        if request.method == "DELETE":
            _authorized(request)
            engine.faults.clear()
        elif request.method == "POST":
            data = await _json_object(request)
            rules = (_validated(FaultsIn, data).rules if "rules" in data
                     else [_validated(FaultRule, data)])
            for rule in rules:
                engine.faults.add(rule)
        return JSONResponse({"rules": [r.model_dump() for r in engine.faults.rules]})

    async def requests(request: Request) -> JSONResponse:
        if request.method == "DELETE":
            _authorized(request)
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
            body = _validated(ClockIn, await _json_object(request))
            if body.freeze is not None:
                engine.clock.freeze(body.freeze)
            if body.set is not None:
                engine.clock.set(body.set)
            if body.advance is not None:
                engine.clock.advance(body.advance)
            engine.save_clock()
            ran = engine.run_due()
        return JSONResponse({"now": engine.clock.now(), "frozen": engine.clock.frozen, "ran": ran})

    async def due(request: Request) -> JSONResponse:
        pending = bool(request.query_params.get("pending"))
        return JSONResponse({"data": DueWork(engine.store).listing(pending_only=pending)})

    async def snapshot(request: Request) -> JSONResponse:
        body = _validated(SnapshotIn, await _json_object(request))
        restore = request.url.path.endswith("/restore")
        path = _snapshot_file(engine, body.path, must_exist=restore)
        if restore:
            engine.load_snapshot(path)
        else:
            engine.save_snapshot(path)
        return JSONResponse({"ok": True, "path": str(path)})

    async def bulk(request: Request) -> JSONResponse:
        body = _validated(BulkIn, await _json_object(request))
        account = body.account or engine.config.platform_account
        return JSONResponse({"inserted": engine.store.bulk_insert(body.objects,
                                                                  account=account)})

    return [
        Route("/_replica/health", health, methods=["GET"]),
        Route("/_replica/faults", _answering_errors(faults), methods=["GET", "POST", "DELETE"]),
        Route("/_replica/requests", _answering_errors(requests), methods=["GET", "DELETE"]),
        Route("/_replica/deliveries", deliveries, methods=["GET"]),
        Route("/_replica/clock", _answering_errors(clock), methods=["GET", "POST"]),
        Route("/_replica/due", due, methods=["GET"]),
        Route("/_replica/snapshot", _answering_errors(snapshot), methods=["POST"]),
        Route("/_replica/restore", _answering_errors(snapshot), methods=["POST"]),
        Route("/_replica/bulk", _answering_errors(bulk), methods=["POST"]),
    ]
