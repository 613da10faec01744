"""What every event-family function gets: the event, the session, the bugs, and the helpers
that carry the handler's rules — watermarks, account scope, amount storage, outcome.

Rules that are right by default and that bug switches bend, in one place:

- watermark (FM-02): a snapshot is applied only when ``(event.created, status rank)`` is not
  older than the row's; the rank breaks ties between snapshots of the same second
- scope (FM-22): rows get ``connect_account_id = event.account``
- amounts (FM-11, FM-12): stored exactly as Stripe's integer minor units
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from core.money import THREE_DECIMAL, ZERO_DECIMAL
from sandbox.usersys.models import Account, _Synced, by_key

Obj = dict[str, Any]
Status = Literal["applied", "duplicate", "stale", "ignored", "failed"]


class BugHit(BaseModel):
    """One place where a bug switch made the handler do something the correct one wouldn't."""

    bug: str
    object_id: str | None
    detail: str


class HandlerOutcome(BaseModel):
    event_id: str
    event_type: str
    object_id: str | None = None
    status: Status = "applied"
    detail: str | None = None
    effects: list[str] = Field(default_factory=list)
    bug_hits: list[BugHit] = Field(default_factory=list)


class HandlerFailed(Exception):
    """Raised by a family function to answer non-2xx (before it has written anything)."""


def ts(value: Any) -> datetime | None:
    """Stripe unix seconds → aware UTC datetime."""
    if value is None or value == "":
        return None
    return datetime.fromtimestamp(int(value), UTC)


def same(a: Any, b: Any) -> bool:
    """Equality that treats a naive datetime (SQLite gives those back) as UTC."""
    if isinstance(a, datetime) and a.tzinfo is None:
        a = a.replace(tzinfo=UTC)
    if isinstance(b, datetime) and b.tzinfo is None:
        b = b.replace(tzinfo=UTC)
    return a == b


def stripe_id(value: Any) -> str | None:
    """An id field that may have been expanded into an object."""
    if isinstance(value, dict):
        return value.get("id")
    return value or None


@dataclass
class Ctx:
    session: Session
    event: Obj
    bugs: frozenset[str]
    now: datetime
    outcome: HandlerOutcome

    # -- the event ---------------------------------------------------------------------------
    @property
    def type(self) -> str:
        return self.event["type"]

    @property
    def obj(self) -> Obj:
        return self.event["data"]["object"]

    @property
    def created(self) -> int:
        return int(self.event["created"])

    @property
    def scope(self) -> str | None:
        """The connected account the event's objects live in (None = platform)."""
        account = self.event.get("account")
        if account and self.on("FM-22"):
            # FM-22: the handler never reads event.account; everything lands on the platform.
            self.hit("FM-22", self.obj.get("id"), f"event of {account} applied as platform")
            return None
        return account or None

    # -- bugs and outcome --------------------------------------------------------------------
    def on(self, bug: str) -> bool:
        return bug in self.bugs

    def hit(self, bug: str, object_id: str | None, detail: str) -> None:
        if not any(h.bug == bug and h.object_id == object_id and h.detail == detail
                   for h in self.outcome.bug_hits):
            self.outcome.bug_hits.append(BugHit(bug=bug, object_id=object_id, detail=detail))

    def effect(self, text: str) -> None:
        self.outcome.effects.append(text)

    def ignore(self, detail: str) -> None:
        self.outcome.status = "ignored"
        self.outcome.detail = detail

    def stale(self, detail: str) -> None:
        self.outcome.status = "stale"
        self.outcome.detail = detail

    # -- rules -------------------------------------------------------------------------------
    def fresh(self, row: _Synced, rank: int, object_id: str) -> bool:
        """Whether this event's snapshot may be written over `row` (watermark check)."""
        if row.stripe_event_created is None:
            return True
        if (self.created, rank) >= (row.stripe_event_created, row.stripe_state_rank):
            return True
        if self.on("FM-02"):
            # FM-02: no watermark — the older snapshot overwrites what is stored.
            self.hit("FM-02", object_id,
                     f"snapshot of {self.created} overwrote one of {row.stripe_event_created}")
            return True
        return False

    def stamp(self, row: _Synced, rank: int) -> None:
        row.stripe_event_created = self.created
        row.stripe_state_rank = rank
        row.livemode = bool(self.obj.get("livemode", self.event.get("livemode")))
        row.connect_account_id = self.scope

    def amount(self, value: Any, currency: Any, object_id: str | None) -> int | None:
        """A Stripe amount as the company stores it: integer minor units, unchanged."""
        if value is None:
            return None
        amount, code = int(value), str(currency or "").lower()
        if code in ZERO_DECIMAL and self.on("FM-11"):
            # FM-11: a hard-coded "cents" conversion applied to currencies that have none.
            self.hit("FM-11", object_id, f"{amount} {code} stored as {amount // 100}")
            return amount // 100
        if code in THREE_DECIMAL and self.on("FM-12"):
            # FM-12: three-decimal currencies treated as two-decimal; last digit dropped.
            self.hit("FM-12", object_id, f"{amount} {code} stored as {amount // 10}")
            return amount // 10
        return amount

    def account_for(self, customer: Any) -> Account | None:
        """The local account of a Stripe customer; a stub row when it is not known yet."""
        customer_id = stripe_id(customer)
        if not customer_id:
            return None
        account = self.session.scalar(by_key(Account, "stripe_customer_id"),
                                      {"key": customer_id})
        if account is None:
            account = Account(stripe_customer_id=customer_id, connect_account_id=self.scope)
            self.session.add(account)
            self.session.flush()
            self.effect(f"account stub for {customer_id}")
        return account


__all__ = ["BugHit", "Ctx", "HandlerFailed", "HandlerOutcome", "same", "stripe_id", "ts"]
