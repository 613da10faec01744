"""The token bucket on a fake clock: burst, steady rate, 429 pauses, sharing, threads."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tools.stripe.ratelimit import RateLimiterRegistry, TokenBucket


def test_burst_then_steady_rate(clock: Any) -> None:
    bucket = TokenBucket(rate=10, burst=3, clock=clock)
    waits = [bucket.reserve() for _ in range(5)]
    assert waits[:3] == [0, 0, 0]
    assert waits[3] == pytest.approx(0.1)
    assert waits[4] == pytest.approx(0.2)


def test_default_burst_is_one_seconds_worth(clock: Any) -> None:
    bucket = TokenBucket(rate=25, clock=clock)
    assert bucket.burst == 25
    assert TokenBucket(rate=0.5, clock=clock).burst == 1


def test_tokens_refill_with_time(clock: Any) -> None:
    bucket = TokenBucket(rate=2, burst=2, clock=clock)
    assert bucket.acquire(clock.sleep) == 0
    assert bucket.acquire(clock.sleep) == 0
    assert bucket.acquire(clock.sleep) == pytest.approx(0.5)
    clock.now += 10  # idle: the bucket refills, but never beyond the burst
    assert [bucket.acquire(clock.sleep) for _ in range(3)] == pytest.approx([0, 0, 0.5])


def test_defer_pauses_everyone_then_resumes_without_a_burst(clock: Any) -> None:
    bucket = TokenBucket(rate=10, burst=5, clock=clock)
    bucket.defer(2.0)
    waits = [bucket.reserve() for _ in range(3)]
    assert waits == pytest.approx([2.0, 2.1, 2.2])


def test_defer_never_shortens_a_pause(clock: Any) -> None:
    bucket = TokenBucket(rate=10, burst=1, clock=clock)
    bucket.defer(5)
    bucket.defer(1)
    bucket.defer(0)
    assert bucket.reserve() == pytest.approx(5)


@given(
    rate=st.floats(min_value=0.5, max_value=200),
    burst=st.integers(min_value=1, max_value=50),
    gaps=st.lists(st.floats(min_value=0, max_value=0.5), min_size=1, max_size=200),
)
def test_never_more_than_burst_plus_rate_times_window(
    new_clock: Any, rate: float, burst: int, gaps: list[float]
) -> None:
    clock = new_clock()
    bucket = TokenBucket(rate=rate, burst=burst, clock=clock)
    sent: list[float] = []
    for gap in gaps:
        clock.now += gap
        wait = bucket.reserve()
        sent.append(clock.now + wait)
    # In any window [t, t + w], at most burst + rate * w requests go out.
    sent.sort()
    for i, start in enumerate(sent):
        for j in range(i, len(sent)):
            window = sent[j] - start
            assert j - i + 1 <= burst + rate * window + 1e-6


def test_registry_shares_one_bucket_per_key_and_keeps_the_strictest_rate(
    clock: Any,
) -> None:
    registry = RateLimiterRegistry(clock=clock)
    a = registry.bucket("acct_1", rate=25)
    b = registry.bucket("acct_1", rate=100)
    c = registry.bucket("acct_1", rate=5, burst=2)
    other = registry.bucket("acct_2", rate=25)
    assert a is b is c
    assert a is not other
    assert (a.rate, a.burst) == (5, 2)
    assert len(registry) == 2


def test_invalid_parameters() -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate=0)
    with pytest.raises(ValueError):
        TokenBucket(rate=float("inf"))
    with pytest.raises(ValueError):
        TokenBucket(rate=1, burst=0)


def test_thread_safe_under_contention(clock: Any) -> None:
    bucket = TokenBucket(rate=100, burst=10, clock=clock)
    waits: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            w = bucket.reserve()
            with lock:
                waits.append(w)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 400 reservations at one instant: each slot handed out exactly once.
    assert sorted(round(w, 6) for w in waits) == [
        round(max(0.0, (i - 9) * 0.01), 6) for i in range(400)
    ]


def test_async_acquire_uses_the_same_budget() -> None:
    bucket = TokenBucket(rate=1000, burst=2)

    async def run() -> list[float]:
        return list(await asyncio.gather(*(bucket.acquire_async() for _ in range(4))))

    waits = sorted(asyncio.run(run()))
    assert waits[:2] == [0, 0]
    assert 0 < waits[2] < waits[3] <= 0.0025
