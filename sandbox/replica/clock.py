"""The replica's own clock: real time plus an offset, or frozen at a chosen instant.

Every ``created``, event timestamp, idempotency expiry and due-work time reads
`Clock.now()`. Moving the clock (``POST /_replica/clock``) lets day-long flows run in
milliseconds: due work (see `sandbox.replica.duework`) runs as soon as the clock passes it,
and while an item runs the clock reads its due time (`Clock.at`) so objects it creates are
stamped when they "happened".
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class Clock:
    def __init__(self, *, start: int | None = None, frozen: bool = False) -> None:
        self._offset = 0.0 if start is None else start - time.time()
        self._frozen: int | None = start if frozen else None
        self._pinned: list[int] = []

    def now(self) -> int:
        if self._pinned:
            return self._pinned[-1]
        if self._frozen is not None:
            return self._frozen
        return int(time.time() + self._offset)

    @property
    def frozen(self) -> bool:
        return self._frozen is not None

    def advance(self, seconds: float) -> int:
        if self._frozen is not None:
            self._frozen += int(seconds)
        else:
            self._offset += seconds
        return self.now()

    def set(self, ts: int) -> int:
        if self._frozen is not None:
            self._frozen = int(ts)
        else:
            self._offset = ts - time.time()
        return self.now()

    def freeze(self, on: bool) -> int:
        if on and self._frozen is None:
            self._frozen = self.now()
        elif not on and self._frozen is not None:
            self._offset = self._frozen - time.time()
            self._frozen = None
        return self.now()

    @contextmanager
    def at(self, ts: int) -> Iterator[None]:
        """Read `ts` as the time while running work that was due at `ts`."""
        self._pinned.append(ts)
        try:
            yield
        finally:
            self._pinned.pop()

    # Persisted in the store's meta table so a snapshot carries its clock.
    def state(self) -> dict[str, float | int | None]:
        return {"offset": self._offset, "frozen": self._frozen}

    def restore(self, state: dict[str, float | int | None]) -> None:
        self._offset = float(state.get("offset") or 0.0)
        frozen = state.get("frozen")
        self._frozen = int(frozen) if frozen is not None else None
