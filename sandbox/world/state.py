"""`World`: the state a build threads through its scenarios — the in-process replica, one
seeded RNG, the timeline of planned actions, references to what was made, and the notes each
account-layer switch leaves for the manifest.

Scenarios plan actions with `World.at(t, fn, *args)`; `World.run()` plays them in time
order (ties keep planning order), moving the replica clock to each action's time first so
due work (debits settling, renewals, retries, expiries) runs in between, exactly when it
is due.
"""

from __future__ import annotations

import heapq
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.world.api import WorldApi
from sandbox.world.company import Place
from sandbox.world.config import DAY, WorldConfig

Obj = dict[str, Any]


@dataclass
class CustomerRef:
    id: str
    place: Place
    email: str
    account: str | None = None  # connected account (None = platform)
    index: int = 0


@dataclass
class World:
    config: WorldConfig
    api: WorldApi
    rng: random.Random
    prices: dict[str, str] = field(default_factory=dict)  # lookup_key -> price id
    customers: list[CustomerRef] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)  # connected accounts
    endpoint: Obj = field(default_factory=dict)  # the company's webhook endpoint
    # what account-layer switches did: bug id -> list of {"object_id", "how", ...}
    notes: dict[str, list[Obj]] = field(default_factory=lambda: defaultdict(list))
    metered: list[tuple[CustomerRef, str]] = field(default_factory=list)  # (customer, sub id)
    usage_rows: list[Obj] = field(default_factory=list)  # the app's usage_records, to load
    history: Any = None  # bulk.History when the size has bulk-loaded history
    _timeline: list[tuple[int, int, Callable[..., Any], tuple[Any, ...], Obj]] = field(
        default_factory=list)
    _seq: int = 0

    @property
    def start(self) -> int:
        return self.config.start

    @property
    def end(self) -> int:
        return self.config.end

    def bug(self, bug_id: str) -> bool:
        return bug_id in self.config.bugs

    def note(self, bug_id: str, object_id: str, how: str, **extra: Any) -> None:
        self.notes[bug_id].append({"object_id": object_id, "how": how, **extra})

    # -- timeline ---------------------------------------------------------------------------
    def at(self, t: int, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Plan `fn(*args, **kwargs)` at world time `t` (clamped into the window)."""
        t = min(max(int(t), self.start), self.end - 60)
        heapq.heappush(self._timeline, (t, self._seq, fn, args, kwargs))
        self._seq += 1

    def day(self, lo: float, hi: float | None = None) -> int:
        """A random time between day `lo` and day `hi` of the window (day 0 = start)."""
        hi = lo if hi is None else hi
        return self.start + int(self.rng.uniform(lo, hi) * DAY)

    def run(self) -> None:
        while self._timeline:
            t, _seq, fn, args, kwargs = heapq.heappop(self._timeline)
            self.api.advance_to(t)
            fn(*args, **kwargs)
        self.api.advance_to(self.end)

    # -- helpers ----------------------------------------------------------------------------
    def customer_post(self, ref: CustomerRef, path: str, params: Obj | None = None,
                      **kw: Any) -> Obj:
        return self.api.post(path, params, account=ref.account, **kw)

    def pick(self, seq: list[Any] | tuple[Any, ...]) -> Any:
        return seq[self.rng.randrange(len(seq))]


__all__ = ["CustomerRef", "World"]
