"""Fixtures for the Stripe gateway tests: a fake clock, a scripted SDK HTTP client, and a
tiny Stripe-shaped HTTP server (stdlib, in a thread) that can storm 429s and echo keys."""

from __future__ import annotations

import json
import threading
import types
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import stripe
import stripe._http_client as sdk_http

from tools.stripe import GatewayConfig, RateLimiterRegistry, StripeGateway

TEST_KEY = "sk_test_" + "T3stK3yF0rG4teway" + "0123456789"
LIVE_KEY = "sk_live_" + "L1veK3yF0rG4teway" + "0123456789"


class FakeClock:
    """Monotonic time that only moves when someone sleeps."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def no_sdk_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The SDK's own retry backoff calls time.sleep directly; record it instead."""
    slept: list[float] = []
    fake_time = types.SimpleNamespace(sleep=slept.append, time=__import__("time").time)
    monkeypatch.setattr(sdk_http, "time", fake_time)
    return slept


Response = tuple[str, int, dict[str, str]]


class ScriptedHTTPClient(stripe.HTTPClient):
    """An SDK HTTP client answering from a script; records every request it sees."""

    name = "scripted"

    def __init__(self, *responses: Response | Callable[[str, str], Response]) -> None:
        super().__init__()
        self.script: list[Response | Callable[[str, str], Response]] = list(responses)
        self.calls: list[tuple[str, str, dict[str, str]]] = []

    def request(self, method, url, headers, post_data=None, *, _usage=None):  # type: ignore[override]
        self.calls.append((method, url, dict(headers or {})))
        if not self.script:
            raise AssertionError(f"unexpected request {method} {url}")
        item = self.script.pop(0)
        return item(method, url) if callable(item) else item


def ok(body: Mapping[str, Any], **headers: str) -> Response:
    return json.dumps(body), 200, {"request-id": "req_ok", **headers}


def error(status: int, message: str, *, code: str | None = None, **headers: str) -> Response:
    err: dict[str, Any] = {"type": "invalid_request_error", "message": message}
    if code:
        err["code"] = code
    return json.dumps({"error": err}), status, {"request-id": f"req_{status}", **headers}


def make_gateway(
    http_client: stripe.HTTPClient | None = None,
    *,
    clock: FakeClock | None = None,
    limiters: RateLimiterRegistry | None = None,
    **config: Any,
) -> StripeGateway:
    settings: dict[str, Any] = {
        "api_base": "http://127.0.0.1:9",
        "api_key": TEST_KEY,
        "expected_mode": "test",
        "rate_limit": 1000.0,
        "max_retries": 0,
        **config,
    }
    clock = clock or FakeClock()
    return StripeGateway(
        GatewayConfig.model_validate(settings),
        http_client=http_client,
        limiters=RateLimiterRegistry(clock=clock) if limiters is None else limiters,
        sleep=clock.sleep,
    )


# -- a Stripe-shaped HTTP server ----------------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: str


@dataclass
class FakeStripe:
    """Serves /v1/customers (list, retrieve, create) and /v1/account over real HTTP.

    ``storm=(k, n)`` answers 429 (with ``Retry-After: retry_after``) to the first k of
    every n requests; a wrong key gets a 401 whose message repeats the key in full — worse
    than Stripe does — so tests can prove the gateway scrubs it.
    """

    valid_key: str = TEST_KEY
    customers: list[dict[str, Any]] = field(default_factory=list)
    storm: tuple[int, int] | None = None
    retry_after: str | None = "0"
    seen: list[Seen] = field(default_factory=list)
    base_url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _count: int = 0

    def add_customers(self, n: int) -> None:
        start = len(self.customers)
        self.customers.extend(
            {"id": f"cus_{i:06d}", "object": "customer", "email": f"c{i}@example.com"}
            for i in range(start, start + n)
        )

    def answer(self, method: str, raw_path: str, headers: dict[str, str], body: str):
        parts = urlsplit(raw_path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with self._lock:
            index = self._count
            self._count += 1
            self.seen.append(Seen(method, parts.path, query, headers, body))
        if self.storm and index % self.storm[1] < self.storm[0]:
            extra = {"Retry-After": self.retry_after} if self.retry_after is not None else {}
            return 429, {"error": {"type": "rate_limit_error", "message": "Too many"}}, extra
        auth = headers.get("Authorization", "")
        if auth != f"Bearer {self.valid_key}":
            given = auth.removeprefix("Bearer ")
            msg = f"Invalid API Key provided: {given}"
            return 401, {"error": {"type": "invalid_request_error", "message": msg}}, {}
        if parts.path == "/v1/account":
            return (
                200,
                {
                    "id": "acct_fake123",
                    "object": "account",
                    "country": "US",
                    "default_currency": "usd",
                    "charges_enabled": True,
                    "payouts_enabled": True,
                    "settings": {"dashboard": {"display_name": "Fake Co"}},
                },
                {},
            )
        if parts.path == "/v1/customers" and method == "GET":
            return 200, self._page(query), {}
        if parts.path == "/v1/customers" and method == "POST":
            form = {k: v[0] for k, v in parse_qs(body).items()}
            return 200, {"id": "cus_new", "object": "customer", **form}, {}
        if parts.path.startswith("/v1/customers/") and method == "GET":
            cid = parts.path.rsplit("/", 1)[1]
            for c in self.customers:
                if c["id"] == cid:
                    return 200, c, {}
        return (
            404,
            {
                "error": {
                    "type": "invalid_request_error",
                    "code": "resource_missing",
                    "message": f"No such resource: {parts.path}",
                }
            },
            {},
        )

    def _page(self, query: dict[str, str]) -> dict[str, Any]:
        limit = int(query.get("limit", "10"))
        start = 0
        if "starting_after" in query:
            ids = [c["id"] for c in self.customers]
            start = ids.index(query["starting_after"]) + 1
        chunk = self.customers[start : start + limit]
        return {
            "object": "list",
            "url": "/v1/customers",
            "data": chunk,
            "has_more": start + limit < len(self.customers),
        }


def _handler(fake: FakeStripe) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # keep-alive + Nagle + delayed ACK = 40 ms a request

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            status, payload, extra = fake.answer(
                self.command, self.path, dict(self.headers.items()), body
            )
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", f"req_fake{len(fake.seen)}")
            for k, v in extra.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    return Handler


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    fake = FakeStripe()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# -- fixtures handing out the helpers (test modules never import conftest) ----------------


@pytest.fixture(scope="session")
def new_clock() -> type[FakeClock]:
    return FakeClock


@pytest.fixture(scope="session")
def scripted() -> type[ScriptedHTTPClient]:
    return ScriptedHTTPClient


@pytest.fixture(scope="session")
def reply() -> types.SimpleNamespace:
    return types.SimpleNamespace(ok=ok, error=error)


@pytest.fixture(scope="session")
def gateway_factory() -> Callable[..., StripeGateway]:
    return make_gateway


@pytest.fixture(scope="session")
def test_key() -> str:
    return TEST_KEY


@pytest.fixture(scope="session")
def live_key() -> str:
    return LIVE_KEY
