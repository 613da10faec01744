"""Webhook delivery: signed like Stripe, in the background, retried, every attempt recorded.

Each (event, endpoint) pair becomes one asyncio task that POSTs the event JSON with
``Stripe-Signature: t=…,v1=…`` (stripe-python's own `WebhookSignature`, HMAC-SHA256 over
``"{t}.{body}"`` with the endpoint's ``whsec_`` secret). A non-2xx answer, a timeout or a
connection error is retried after ``config.webhook_retry_schedule[n]`` seconds; a disabled
or deleted endpoint stops its retries. Attempts land in the ``deliveries`` table
(``GET /_replica/deliveries``). Nothing here ever blocks an API response.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
from stripe import WebhookSignature

from sandbox.replica.clock import Clock
from sandbox.replica.config import ReplicaConfig
from sandbox.replica.events import endpoint_wants, endpoints_for
from sandbox.replica.store import Store

Obj = dict[str, Any]


def event_body(event: Obj) -> str:
    return json.dumps(event, indent=2)


def sign(body: str, secret: str, timestamp: int) -> str:
    return WebhookSignature.generate_signature_header(body, secret, timestamp=timestamp)


class Dispatcher:
    def __init__(self, store: Store, clock: Clock, config: ReplicaConfig) -> None:
        self.store = store
        self.clock = clock
        self.config = config
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=self.config.webhook_timeout)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def dispatch(self, events: list[Obj]) -> None:
        """Start delivering freshly committed events (call from the event loop)."""
        platform = self.config.platform_account
        for event in events:
            account = event.get("account") or platform
            for home, endpoint in endpoints_for(self.store, platform, account, event["type"]):
                task = asyncio.get_running_loop().create_task(
                    self._deliver(event, endpoint["id"], home)
                )
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _deliver(self, event: Obj, endpoint_id: str, home: str) -> None:
        body = event_body(event)
        schedule = self.config.webhook_retry_schedule
        for attempt in range(1, len(schedule) + 2):
            endpoint = self.store.get(home, endpoint_id)
            if endpoint is None or endpoint.get("deleted") or not endpoint_wants(
                endpoint, event["type"]
            ):
                return
            ok = await self._attempt(event, endpoint, home, body, attempt)
            if ok:
                self._served(event)
                return
            if attempt <= len(schedule):
                await asyncio.sleep(schedule[attempt - 1])

    async def _attempt(self, event: Obj, endpoint: Obj, home: str, body: str, attempt: int) -> bool:
        assert self._client is not None
        ts = self.clock.now() if self.config.sign_with_replica_clock else int(time.time())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": sign(body, endpoint["_secret"], ts),
        }
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            response = await self._client.post(endpoint["url"], content=body.encode(),
                                               headers=headers)
            status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except httpx.TimeoutException:
            error = "timeout"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        latency = (time.perf_counter() - started) * 1000
        self.store.conn.execute(
            "INSERT INTO deliveries(event_id, endpoint_id, account, attempt, status, latency_ms,"
            " error, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (event["id"], endpoint["id"], event.get("account") or home, attempt, status,
             round(latency, 2), error, self.clock.now()),
        )
        return error is None

    def _served(self, event: Obj) -> None:
        account = event.get("account") or self.config.platform_account
        self.store.conn.execute(
            "UPDATE events SET data = json_set(data, '$.pending_webhooks',"
            " max(json_extract(data, '$.pending_webhooks') - 1, 0)) WHERE account=? AND id=?",
            (account, event["id"]),
        )


def list_deliveries(
    store: Store, *, event_id: str | None = None, endpoint_id: str | None = None
) -> list[Obj]:
    where, args = [], []
    if event_id:
        where.append("event_id=?")
        args.append(event_id)
    if endpoint_id:
        where.append("endpoint_id=?")
        args.append(endpoint_id)
    sql = "SELECT event_id, endpoint_id, account, attempt, status, latency_ms, error, at FROM "
    sql += "deliveries" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY seq"
    cols = ("event_id", "endpoint_id", "account", "attempt", "status", "latency_ms", "error", "at")
    return [dict(zip(cols, row, strict=True)) for row in store.conn.execute(sql, args)]
