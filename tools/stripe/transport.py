"""The HTTP seam under the Stripe SDK: a token per attempt, and 429s ridden out.

The SDK's own retry loop (`max_network_retries`) already handles connection errors, 409s,
5xx and `Stripe-Should-Retry: true` with jittered backoff and one idempotency key for all
attempts; it does not retry 429. `ThrottledHTTPClient` wraps the SDK's real HTTP client
and sits inside that loop, so every attempt — first try or SDK retry — waits for a token
from the account's shared bucket, and a 429 is retried here (same headers, so the same
idempotency key) after `Retry-After`, or after jittered exponential backoff when Stripe
gives none. When 429s outlive `max_rate_limit_retries` the 429 is handed back to the SDK,
which raises `RateLimitError`; the gateway maps that to `StripeRateLimited`.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from pydantic import BaseModel
from stripe import HTTPClient

from tools.stripe.ratelimit import Sleep, TokenBucket

__all__ = ["GatewayStats", "RateLimitPolicy", "ThrottledHTTPClient", "retry_after_seconds"]

log = logging.getLogger(__name__)


class GatewayStats(BaseModel):
    """What the gateway did on the wire since it was created."""

    requests_sent: int = 0
    """HTTP attempts that left the process (first tries and every retry)."""
    retries: int = 0
    """SDK network retries: connection errors, 409, 5xx, Stripe-Should-Retry."""
    rate_limited: int = 0
    """429 answers received."""
    rate_limit_waits: int = 0
    """429s waited out and retried (the rest surfaced as StripeRateLimited)."""
    throttled: int = 0
    """Attempts our own token bucket held back."""
    seconds_slept: float = 0.0
    """Token-bucket waits + 429 waits + the SDK's retry backoff."""


class RateLimitPolicy(BaseModel):
    max_rate_limit_retries: int = 6
    max_retry_after: float = 60.0
    """A Retry-After longer than this is not waited for: the 429 surfaces instead."""
    backoff_initial: float = 0.5
    backoff_max: float = 8.0


class _Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stats = GatewayStats()

    def add(self, **deltas: float) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self._stats, name, getattr(self._stats, name) + delta)

    def snapshot(self) -> GatewayStats:
        with self._lock:
            return self._stats.model_copy()


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def retry_after_seconds(
    headers: Mapping[str, str] | None, *, now: float | None = None
) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or HTTP-date), if any."""
    value = _header(headers, "Retry-After")
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class ThrottledHTTPClient(HTTPClient):
    """Wraps the SDK's HTTP client: shared token bucket before each attempt, 429 retries."""

    name = "fde-throttled"

    def __init__(
        self,
        inner: HTTPClient,
        bucket: TokenBucket,
        *,
        policy: RateLimitPolicy | None = None,
        sleep: Sleep = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__()
        self._inner = inner
        self._bucket = bucket
        self._policy = policy or RateLimitPolicy()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._counters = _Counters()
        self._server_date: str | None = None

    @property
    def bucket(self) -> TokenBucket:
        return self._bucket

    def server_time(self) -> int | None:
        """Stripe's clock, from the ``Date`` header of the last answer (None before any, or
        when it does not parse)."""
        if self._server_date is None:
            return None
        try:
            return int(parsedate_to_datetime(self._server_date).timestamp())
        except (TypeError, ValueError):
            return None

    def stats(self) -> GatewayStats:
        return self._counters.snapshot()

    # -- the SDK's retry loop calls these -------------------------------------------------

    def _should_retry(
        self,
        response: tuple[Any, int, Mapping[str, str] | None] | None,
        api_connection_error: Any,
        num_retries: int,
        max_network_retries: int | None,
    ) -> bool:
        retry = bool(
            super()._should_retry(response, api_connection_error, num_retries, max_network_retries)
        )
        if retry:
            self._counters.add(retries=1)
        return retry

    def _sleep_time_seconds(self, num_retries: int) -> float:
        seconds = super()._sleep_time_seconds(num_retries)
        self._counters.add(seconds_slept=seconds)
        return seconds

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[Any, int, Mapping[str, str]]:
        return self._send(self._inner.request, method, url, headers, post_data)

    def request_stream(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[Any, int, Mapping[str, str]]:
        return self._send(self._inner.request_stream, method, url, headers, post_data)

    def close(self) -> None:
        self._inner.close()

    # -- ours -------------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        policy = self._policy
        base = min(policy.backoff_max, policy.backoff_initial * 2 ** (attempt - 1))
        return base * (0.5 + 0.5 * self._rng.random())

    def _send(
        self,
        send: Callable[..., tuple[Any, int, Mapping[str, str]]],
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any,
    ) -> tuple[Any, int, Mapping[str, str]]:
        attempt = 0
        while True:
            waited = self._bucket.acquire(self._sleep)
            if waited > 0:
                # After a 429 the wait is the 429's, not our own throttling.
                self._counters.add(throttled=0 if attempt else 1, seconds_slept=waited)
            self._counters.add(requests_sent=1)
            response = send(method, url, headers, post_data)
            _, status, rheaders = response
            self._server_date = _header(rheaders, "Date") or self._server_date
            if status != 429:
                return response
            self._counters.add(rate_limited=1)
            attempt += 1
            asked = retry_after_seconds(rheaders)
            if attempt > self._policy.max_rate_limit_retries:
                log.warning(
                    "stripe 429: giving up after %d retries",
                    attempt - 1,
                    extra={"method": method, "url": url},
                )
                return response
            if asked is not None and asked > self._policy.max_retry_after:
                log.warning(
                    "stripe 429: Retry-After %.1fs exceeds the %.1fs we wait",
                    asked,
                    self._policy.max_retry_after,
                    extra={"method": method, "url": url},
                )
                return response
            delay = asked if asked is not None else self._backoff(attempt)
            log.info(
                "stripe 429: retry %d after %.2fs (%s)",
                attempt,
                delay,
                "Retry-After" if asked is not None else "backoff",
                extra={"method": method, "url": url},
            )
            _close_quietly(response[0])
            # Everyone on this account waits, not only this caller: the budget is shared.
            self._bucket.defer(delay)
            self._counters.add(rate_limit_waits=1)


def _close_quietly(body: Any) -> None:
    close = getattr(body, "close", None)
    if callable(close):
        try:
            close()
        except Exception:  # noqa: BLE001 - a stream we are discarding anyway
            pass
