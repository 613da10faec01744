"""Bulk history: the large world's settled past, produced as Stripe-shaped dicts and loaded
with `Store.bulk_insert` instead of being driven through the engine request by request.

    history.plan(world)      # a scenario, right after the catalog (prices must exist)

`SizeSpec.history_customers` customers signed up during the `HISTORY_DAYS` before the
window, subscribed by card to a flat or per-seat plan, paid every monthly invoice and
cancelled before the window opened (`stripe.HistoryBuilder`; shapes from `exemplars`, made by
the real replica). Every history event got one successful delivery; the company rows are what
the correct handler stores for them (`company.CompanyRows`), written before the window's own
deliveries. The window (and every bug switch) stays on the in-process engine: the history
never touches it — its customers are gone before the window starts, its balance transactions
are left for the window's first automatic payout to sweep, and handler-layer switches model
code deployed at the window's start.

Speed: objects start as shallow copies of the exemplars (`Exemplars.shallow`), ids come from
one byte draw each (`_FastIds`), and the events are stored as canonical JSON
(`Store.bulk_insert_canonical`) so `snapshot` copies their text instead of re-serialising it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from sandbox.replica.ids import _BASE62, _LENGTHS, IdFactory, prefix_for
from sandbox.replica.resources.billing_periods import shift
from sandbox.world.bulk.company import CompanyRows, deliveries
from sandbox.world.bulk.exemplars import capture
from sandbox.world.bulk.stripe import HistoryBuilder, Out, Plan
from sandbox.world.company import PLACES
from sandbox.world.config import DAY
from sandbox.world.delivery import world_time
from sandbox.world.snapshot import CANONICAL_EVENTS

HISTORY_DAYS = 240  # how far before the window the replica clock starts when there is history
PLANS = ("starter_monthly", "team_monthly")


class _FastIds(IdFactory):
    """Seeded ids from one C-level draw per id: `n` random bytes mapped onto the alphabet
    (the engine's factory draws per character; 256 = 4 x 62 + 8, a bias ids can afford)."""

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self._bytes = random.Random(seed).randbytes
        self._tables: dict[str, bytes] = {}
        self._prefixes: dict[str, str] = {}
        self._base62 = self._table(_BASE62)

    def _table(self, alphabet: str) -> bytes:
        table = self._tables.get(alphabet)
        if table is None:
            table = (alphabet * (256 // len(alphabet) + 1))[:256].encode("ascii")
            self._tables[alphabet] = table
        return table

    def _chars(self, n: int) -> str:
        return self._bytes(n).translate(self._base62).decode("ascii")

    def token(self, n: int, alphabet: str = "0123456789ABCDEF") -> str:
        return self._bytes(n).translate(self._table(alphabet)).decode("ascii")

    def new(self, object_type: str, *, prefix: str | None = None) -> str:
        if prefix is None:
            prefix = self._prefixes.get(object_type)
            if prefix is None:
                prefix = self._prefixes[object_type] = prefix_for(object_type)
        return prefix + self._chars(_LENGTHS.get(prefix, 24))


@dataclass
class History:
    """What the build needs after the scenarios: rows for the company DB, events to skip."""

    company: CompanyRows
    event_seqs: tuple[int, int]  # the events table's seq range holding history events
    counts: dict[str, int] = field(default_factory=dict)


def _plans(world: Any, n: int) -> list[Plan]:
    rng = random.Random(world.config.seed ^ 0x41570)
    first = world.api.now() + DAY
    last_cancel = world.start - DAY
    plans = []
    for i in range(n):
        place = PLACES[i % len(PLACES)]
        key = PLANS[i % len(PLANS)]
        price = world.api.get(world.prices[f"{key}_{place.currency}"])
        product = world.api.get(price["product"])
        signup = first + (i * (last_cancel - first - 40 * DAY)) // max(n, 1)
        subscribe = signup + DAY + rng.randrange(3 * DAY)
        months = max(1, min(1 + rng.randrange(8), (last_cancel - subscribe) // (31 * DAY)))
        period_start = shift(subscribe, "month", 1, months - 1)
        period_end = shift(subscribe, "month", 1, months)
        cancel = min(period_start + DAY + rng.randrange(20 * DAY), period_end - 3600,
                     last_cancel)
        plans.append(Plan(index=i, place=place, price=price, product_name=product["name"],
                          quantity=1 if key == "starter_monthly" else 2 + i % 14,
                          signup=signup, subscribe=subscribe, invoices=months, cancel=cancel))
    return plans


def plan(world: Any) -> None:
    n = world.config.spec.history_customers
    if not n:
        return
    api = world.api
    ex = capture(api, world.prices["team_monthly_usd"], seed=world.config.seed)
    builder = HistoryBuilder(ex, _FastIds(world.config.seed ^ 0xB0CC),
                             api_version=api.engine.config.api_version, platform=api.platform)
    out = Out()
    for p in _plans(world, n):
        builder.customer(p, out)
    out.events.sort(key=lambda ev: ev["created"])  # stable: same-second events keep order
    store = api.store
    before = store.conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
    with store.transaction():
        store.bulk_insert(out.objects, account=api.platform)
        # Events are stored canonical and never rewritten: the snapshot copies their text.
        store.bulk_insert_canonical(out.events, account=api.platform)
        store.meta_set(CANONICAL_EVENTS, [before + 1, before + len(out.events)])
    company = CompanyRows()
    attempts = []
    endpoint = world.endpoint["id"]
    rng = random.Random(world.config.seed ^ 0xDE11)
    for at, i in deliveries(out.events, seed=world.config.seed):
        ev = out.events[i]
        company.apply(ev, world_time(at))
        attempts.append((ev["id"], endpoint, api.platform, 1, 200,
                         float(40 + rng.randrange(260)), None, at))
    with store.transaction():
        store.conn.executemany(
            "INSERT INTO deliveries(event_id, endpoint_id, account, attempt, status,"
            " latency_ms, error, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", attempts)
    world.history = History(company=company,
                             event_seqs=(before + 1, before + len(out.events)),
                             counts={"objects": len(out.objects), "events": len(out.events)})


__all__ = ["HISTORY_DAYS", "History", "plan"]
