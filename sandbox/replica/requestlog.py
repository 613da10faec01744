"""Request log: one row per API request (``/v1/…``; admin calls are not logged); totals by
route, status and fault for tests and evals (e.g. API calls per synced object). Each row
keeps the raw query string and the API version answered with, as Stripe's own request log
does, so a client's pagination, ``expand`` and version spread can be judged from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.replica.store import Store


@dataclass
class LoggedRequest:
    at: int
    method: str
    path: str
    route: str
    status: int
    account: str | None
    idempotency_key: str | None
    fault: str | None
    replayed: bool
    request_id: str
    query: str = ""
    api_version: str | None = None


def record(store: Store, entry: LoggedRequest) -> None:
    store.conn.execute(
        "INSERT INTO requests(at, method, path, route, status, account, idempotency_key, fault,"
        " replayed, request_id, query, api_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (entry.at, entry.method, entry.path, entry.route, entry.status, entry.account,
         entry.idempotency_key, entry.fault, int(entry.replayed), entry.request_id,
         entry.query, entry.api_version),
    )


def totals(store: Store, *, since_seq: int = 0) -> dict[str, Any]:
    """``{"total", "last_seq", "by_route": {"GET /v1/customers": n}, "by_status": {"200": n},
    "by_route_status": {"GET /v1/customers": {"200": n}}, "faults": {"rate_limit": n}}``."""
    rows = store.conn.execute(
        "SELECT method || ' ' || route, status, fault, count(*), max(seq) FROM requests"
        " WHERE seq > ? GROUP BY 1, 2, 3",
        (since_seq,),
    ).fetchall()
    out: dict[str, Any] = {"total": 0, "last_seq": since_seq, "by_route": {}, "by_status": {},
                           "by_route_status": {}, "faults": {}}
    for route, status, fault, n, last in rows:
        out["total"] += n
        out["last_seq"] = max(out["last_seq"], last)
        out["by_route"][route] = out["by_route"].get(route, 0) + n
        out["by_status"][str(status)] = out["by_status"].get(str(status), 0) + n
        per = out["by_route_status"].setdefault(route, {})
        per[str(status)] = per.get(str(status), 0) + n
        if fault:
            out["faults"][fault] = out["faults"].get(fault, 0) + n
    return out


def entries(store: Store, *, since_seq: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
    cols = ("seq", "at", "method", "path", "route", "status", "account", "idempotency_key",
            "fault", "replayed", "request_id", "query", "api_version")
    rows = store.conn.execute(
        f"SELECT {', '.join(cols)} FROM requests WHERE seq > ? ORDER BY seq LIMIT ?",
        (since_seq, limit),
    ).fetchall()
    return [dict(zip(cols, r, strict=True)) for r in rows]


def clear(store: Store) -> None:
    store.conn.execute("DELETE FROM requests")
