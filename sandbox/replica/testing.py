"""`running_replica`: a real replica over real HTTP for tests, demos and generators.

    with running_replica(tmp_path / "r.sqlite") as replica:
        client = replica.client()               # stripe.StripeClient at replica.url
        replica.admin.add_fault(path="/v1/customers", kind="rate_limit", count=1)
        replica.admin.advance_clock(3 * 86400)
        replica.admin.request_totals()["by_route"]

uvicorn runs in a daemon thread (`core.server_thread.ServerThread`) on a socket bound before
it starts (no port race); the context manager returns once the server has started and stops
it (lifespan shutdown included) on exit.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import stripe

from core.server_thread import ServerThread
from core.settings import SANDBOX_API_KEY
from sandbox.replica.app import create_app
from sandbox.replica.config import FaultRule, ReplicaConfig
from sandbox.replica.registry import Registry

TEST_KEY = SANDBOX_API_KEY


@dataclass
class Admin:
    """Thin client of the ``/_replica`` admin endpoints (writes need a key and JSON)."""

    url: str
    api_key: str = TEST_KEY
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.url, timeout=30,
                                 headers={"Authorization": f"Bearer {self.api_key}"})

    def _ok(self, response: httpx.Response) -> Any:
        response.raise_for_status()
        return response.json()

    def add_fault(self, **rule: Any) -> list[dict[str, Any]]:
        body = FaultRule.model_validate(rule).model_dump()
        return self._ok(self.http.post("/_replica/faults", json=body))["rules"]

    def clear_faults(self) -> None:
        self._ok(self.http.delete("/_replica/faults"))

    def faults(self) -> list[dict[str, Any]]:
        return self._ok(self.http.get("/_replica/faults"))["rules"]

    def request_totals(self, *, since_seq: int = 0, detail: bool = False) -> dict[str, Any]:
        params: dict[str, Any] = {"since_seq": since_seq}
        if detail:
            params["detail"] = 1
        return self._ok(self.http.get("/_replica/requests", params=params))

    def clear_requests(self) -> None:
        self._ok(self.http.delete("/_replica/requests"))

    def now(self) -> int:
        return self._ok(self.http.get("/_replica/clock"))["now"]

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        return self._ok(self.http.post("/_replica/clock", json={"advance": seconds}))

    def set_clock(self, ts: int, *, freeze: bool | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"set": ts}
        if freeze is not None:
            body["freeze"] = freeze
        return self._ok(self.http.post("/_replica/clock", json=body))

    def deliveries(self, *, event: str | None = None, endpoint: str | None = None) -> list[dict]:
        params = {k: v for k, v in (("event", event), ("endpoint", endpoint)) if v}
        return self._ok(self.http.get("/_replica/deliveries", params=params))["data"]

    def wait_deliveries(self, n: int, *, timeout: float = 10.0, **filters: str) -> list[dict]:
        """Poll until at least `n` attempts are recorded (AssertionError on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.deliveries(**filters)
            if len(found) >= n:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {n} delivery attempts, saw {len(found)}: {found}")
            time.sleep(0.02)

    def due(self, *, pending: bool = False) -> list[dict[str, Any]]:
        return self._ok(self.http.get("/_replica/due", params={"pending": 1} if pending else {}))[
            "data"]

    def save_snapshot(self, path: str | Path) -> None:
        """`path`: a file in the replica's data dir (the folder of its database)."""
        self._ok(self.http.post("/_replica/snapshot", json={"path": str(path)}))

    def load_snapshot(self, path: str | Path) -> None:
        self._ok(self.http.post("/_replica/restore", json={"path": str(path)}))

    def bulk_insert(self, objects: list[dict[str, Any]], *, account: str | None = None) -> int:
        body = {"objects": objects, "account": account}
        return self._ok(self.http.post("/_replica/bulk", json=body))["inserted"]


@dataclass
class ReplicaHandle:
    url: str
    config: ReplicaConfig
    api_key: str = TEST_KEY
    admin: Admin = field(init=False)

    def __post_init__(self) -> None:
        self.admin = Admin(self.url, self.api_key)

    def client(self, *, api_key: str | None = None, **options: Any) -> stripe.StripeClient:
        options.setdefault("max_network_retries", 0)
        return stripe.StripeClient(
            api_key or self.api_key, base_addresses={"api": self.url}, **options
        )


@contextmanager
def running_replica(
    db_path: str | Path,
    *,
    port: int = 0,
    host: str = "127.0.0.1",
    config: ReplicaConfig | None = None,
    registry: Registry | None = None,
    startup_timeout: float = 15.0,
) -> Iterator[ReplicaHandle]:
    """Serve a replica on `db_path`; `registry` replaces the default resource modules."""
    cfg = (config or ReplicaConfig(db_path=Path(db_path))).model_copy(
        update={"db_path": Path(db_path)}
    )
    server = ServerThread(create_app(cfg, registry=registry), host=host, port=port,
                          date_header=False)  # the replica's clock sends its own
    handle = ReplicaHandle(url=server.url, config=cfg)
    server.start(timeout=startup_timeout)
    try:
        yield handle
    finally:
        server.stop()
        handle.admin.http.close()


# the name the `fde sandbox` commands use (the product's code never names the replica)
serve_on = running_replica
