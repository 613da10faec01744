"""The replica engine driven in-process: the same route handlers and behaviours the HTTP app
serves, without HTTP, on a frozen clock the generator moves forward.

    api = WorldApi(db_path, seed=7, start=t0)
    cus = api.post("/v1/customers", {"email": "a@example.com"})
    api.advance_to(t0 + 3 * DAY)      # runs due work (debits settle, renewals, ...) in order

Params are form-ified (ints and bools become strings, as `forms.decode` would hand them to a
handler) so a handler sees exactly what an SDK request would give it. Nothing is delivered
to webhooks here: the world's delivery simulation (`delivery.py`) does that afterwards.
"""

from __future__ import annotations

import random
import re
from typing import Any
from urllib.parse import urlencode

from sandbox.replica.app import build_registry
from sandbox.replica.config import ReplicaConfig
from sandbox.replica.engine import Engine
from sandbox.replica.errors import ApiError
from sandbox.replica.registry import RouteDef

Obj = dict[str, Any]


def formify(value: Any) -> Any:
    """Python values as Stripe form decoding would yield them (strings all the way down)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        return {k: formify(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [formify(v) for v in value]
    return value


class WorldApi:
    def __init__(self, db_path: Any, *, seed: int, start: int,
                 invoice_created_failing: bool = False) -> None:
        self.config = ReplicaConfig(db_path=db_path, clock_start=start, clock_frozen=True,
                                    id_seed=seed,
                                    invoice_created_failing=invoice_created_failing)
        self.engine = Engine(self.config, build_registry())
        self.engine.open()
        self._routes: list[tuple[str, re.Pattern[str], RouteDef]] = [
            (r.method, re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", r.path) + "$"), r)
            for r in self.engine.registry.routes
        ]
        self._req = random.Random(seed ^ 0x5EED)
        self.calls = 0
        # what the company's instrumented HTTP client would have seen, one row per call:
        # (at, method, path, query, status, request id, idempotency key, account)
        self.call_log: list[tuple[int, str, str, str, int, str, str | None, str | None]] = []

    @property
    def store(self):  # noqa: ANN201 - sandbox.replica.store.Store
        return self.engine.store

    @property
    def platform(self) -> str:
        return self.config.platform_account

    def now(self) -> int:
        return self.engine.clock.now()

    def close(self) -> None:
        self.engine.save_clock()
        self.engine.close()

    # -- time ------------------------------------------------------------------------------
    def advance_to(self, ts: int) -> int:
        """Move the clock to `ts` (never backwards) running the due work it passes, in order."""
        ts = max(ts, self.now())
        # Step through due times so work scheduled by running work is also run in order.
        self.engine.clock.set(ts)
        return self.engine.run_due()

    # -- requests --------------------------------------------------------------------------
    def _route(self, method: str, path: str) -> tuple[RouteDef, dict[str, str]]:
        for m, pattern, route in self._routes:
            if m == method:
                match = pattern.match(path)
                if match:
                    return route, match.groupdict()
        raise KeyError(f"no replica route for {method} {path}")

    def request(self, method: str, path: str, params: Obj | None = None, *,
                account: str | None = None, idempotency_key: str | None = None) -> Obj:
        """Run one request's handler in its own transaction (as the pipeline does); an
        `ApiError` raised with ``commit=True`` keeps its writes and is re-raised after."""
        route, path_params = self._route(method, path)
        request_id = "req_" + "".join(self._req.choice("0123456789abcdefABCDEF")
                                      for _ in range(14))
        ctx = self.engine.context(account, request_id=request_id,
                                  idempotency_key=idempotency_key)
        error: ApiError | None = None
        self.calls += 1
        at = self.now()
        query = urlencode(formify(params or {}), doseq=True) if method == "GET" else ""
        try:
            with self.store.transaction():
                try:
                    result = route.handler(ctx, formify(params or {}), **path_params)
                except ApiError as exc:
                    if not exc.commit:
                        raise
                    error = exc
        except ApiError as exc:
            self.call_log.append((at, method, path, query, exc.status, request_id,
                                  idempotency_key, account))
            raise
        self.call_log.append((at, method, path, query, error.status if error else 200,
                              request_id, idempotency_key, account))
        # Requests take time: the next one happens a second later, so snapshots of
        # different requests never share a `created` second (watermarks can order them).
        self.engine.clock.set(self.now() + 1)
        if error is not None:
            raise error
        return result

    def post(self, path: str, params: Obj | None = None, **kw: Any) -> Obj:
        return self.request("POST", path, params, **kw)

    def try_post(self, path: str, params: Obj | None = None, **kw: Any) -> Obj | ApiError:
        """A request whose Stripe error is an expected outcome (a declined card)."""
        try:
            return self.post(path, params, **kw)
        except ApiError as exc:
            return exc

    def get(self, object_id: str, *, account: str | None = None) -> Obj:
        obj = self.store.get(account or self.platform, object_id)
        if obj is None:
            raise KeyError(object_id)
        return obj


__all__ = ["WorldApi", "formify"]
