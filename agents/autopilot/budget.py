"""Per-account rate budgets for the autopilot's Stripe traffic.

The gateway's own registry shares a bucket between gateways with the same key; the autopilot
runs many engagements, some of them on the same Stripe account with different (restricted)
keys, so its buckets are keyed by the account itself. Several worker processes split an
account's limit between them (each takes ``limit / live workers``), which keeps the sum under
the limit without a network round trip per request.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from agents.autopilot.tables import workers
from core.engagements import Engagement
from core.storage import Database
from tools.stripe.ratelimit import RateLimiterRegistry, TokenBucket

__all__ = ["AccountBudget", "account_of", "live_workers"]


def account_of(engagement: Engagement, key: str) -> str:
    """The account an engagement's traffic counts against (its key stands in until the
    account id is known; the digest keeps the key itself out of memory dumps and logs)."""
    if engagement.stripe_account_id:
        return f"{engagement.stripe_api_base or ''}|{engagement.stripe_account_id}"
    return f"{engagement.stripe_api_base or ''}|key:{hashlib.sha256(key.encode()).hexdigest()[:16]}"


class AccountBudget:
    """Token buckets by account, with this process's share of each account's limit."""

    def __init__(self, *, share: int = 1) -> None:
        self._lock = threading.Lock()
        self._share = max(1, share)
        self._buckets: dict[str, TokenBucket] = {}

    @property
    def share(self) -> int:
        return self._share

    def rebalance(self, share: int) -> None:
        """A new number of live workers: buckets are rebuilt at the new per-worker rate."""
        with self._lock:
            if max(1, share) != self._share:
                self._share = max(1, share)
                self._buckets.clear()

    def registry_for(self, account: str) -> RateLimiterRegistry:
        """What a gateway takes as ``limiters=``: every key maps to the account's bucket."""
        return _AccountView(self, account)

    def bucket(self, account: str, rate: float, burst: int | None) -> TokenBucket:
        rate = rate / self._share
        burst = max(1, (burst or int(rate * self._share)) // self._share)
        with self._lock:
            found = self._buckets.get(account)
            if found is None:
                found = self._buckets[account] = TokenBucket(rate, burst)
                return found
        found.tighten(rate, burst)
        return found


class _AccountView(RateLimiterRegistry):
    def __init__(self, budget: AccountBudget, account: str) -> None:
        super().__init__()
        self._budget = budget
        self._account = account

    def bucket(self, key: str, rate: float, burst: int | None = None) -> TokenBucket:
        return self._budget.bucket(self._account, rate, burst)


def live_workers(db: Database, worker: str, *, now: datetime, ttl_seconds: float) -> int:
    """Record this worker's heartbeat and count the workers seen within ``ttl_seconds``."""
    with db.session() as session:
        builder = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(builder(workers).values(id=worker, started_at=now, heartbeat_at=now)
                        .on_conflict_do_nothing(index_elements=["id"]))
        session.execute(update(workers).where(workers.c.id == worker).values(heartbeat_at=now))
        stale = now - timedelta(seconds=ttl_seconds)
        session.execute(delete(workers).where(workers.c.heartbeat_at < stale - timedelta(
            seconds=ttl_seconds)))
        return int(session.scalar(select(func.count()).select_from(workers).where(
            workers.c.heartbeat_at >= stale)) or 1)
