"""Client-side rate limiting for Stripe: one token bucket per account, shared by every caller.

Stripe allows roughly 100 requests/s in live mode and 25/s in sandboxes, counted per
account. Every gateway that talks to the same account (same API base, key and connected
account) draws from the same bucket, so ten concurrent syncs cannot together exceed the
budget. A 429 answered by Stripe pauses the whole bucket (`defer`), not only the caller
that received it.

The bucket is written as GCRA (a token bucket expressed as a "theoretical arrival time"):
`reserve()` never blocks, it only says how long to wait, which makes the same object
usable from threads (`acquire`) and from asyncio (`acquire_async`). Clock and sleep are
injectable so tests run on a fake clock.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable

__all__ = ["Clock", "RateLimiterRegistry", "Sleep", "TokenBucket", "shared_limiters"]

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class TokenBucket:
    """``rate`` tokens per second, bursts of up to ``burst`` requests; thread-safe."""

    def __init__(self, rate: float, burst: int | None = None, *, clock: Clock = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._tat = clock()  # a full bucket: the first `burst` requests go at once
        self._configure(rate, burst)

    def _configure(self, rate: float, burst: int | None) -> None:
        if rate <= 0 or not math.isfinite(rate):
            raise ValueError(f"rate must be a positive number of requests per second, not {rate}")
        burst = burst if burst is not None else max(1, math.floor(rate))
        if burst < 1:
            raise ValueError(f"burst must be at least 1, not {burst}")
        self.rate = rate
        self.burst = burst
        self._interval = 1.0 / rate
        self._tolerance = (burst - 1) * self._interval

    def tighten(self, rate: float, burst: int | None = None) -> None:
        """Lower the rate (never raise it): the strictest caller's limit wins."""
        with self._lock:
            if rate < self.rate:
                self._configure(
                    rate, burst if burst is not None else min(self.burst, max(1, math.floor(rate)))
                )

    def reserve(self) -> float:
        """Take one token; return how many seconds to wait before using it."""
        with self._lock:
            now = self._clock()
            tat = max(self._tat, now)
            wait = max(0.0, tat - self._tolerance - now)
            self._tat = tat + self._interval
            return wait

    def defer(self, seconds: float) -> None:
        """Nobody sends for ``seconds`` from now; afterwards the steady rate, no burst."""
        if seconds <= 0:
            return
        with self._lock:
            self._tat = max(self._tat, self._clock() + seconds + self._tolerance)

    def acquire(self, sleep: Sleep = time.sleep) -> float:
        """Block until a token is available; return the seconds slept."""
        wait = self.reserve()
        if wait > 0:
            sleep(wait)
        return wait

    async def acquire_async(self) -> float:
        wait = self.reserve()
        if wait > 0:
            await asyncio.sleep(wait)
        return wait


class RateLimiterRegistry:
    """Buckets by key (one key per Stripe account), created on first use and then shared."""

    def __init__(self, *, clock: Clock = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, TokenBucket] = {}

    def bucket(self, key: str, rate: float, burst: int | None = None) -> TokenBucket:
        with self._lock:
            found = self._buckets.get(key)
            if found is None:
                found = self._buckets[key] = TokenBucket(rate, burst, clock=self._clock)
                return found
        found.tighten(rate, burst)
        return found

    def __len__(self) -> int:
        return len(self._buckets)


_SHARED = RateLimiterRegistry()


def shared_limiters() -> RateLimiterRegistry:
    """The process-wide registry: the one place the per-account budget can be shared.

    Separate processes (several `fde worker`s) each hold their own; the 429 handling in the
    gateway is what keeps them honest against each other.
    """
    return _SHARED
