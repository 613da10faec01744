"""Due work: things that must happen when the replica clock reaches a time.

A behaviour module registers a kind (``reg.on_due("payment_intent.settle", settle)``) and a
handler plans it (``ctx.schedule(ctx.now() + 3 * 86400, "payment_intent.settle",
{"id": pi["id"]})``). Items persist in ``due_work`` (snapshots carry them); they run in due
order whenever the clock passes them — on ``POST /_replica/clock`` at once, otherwise on the
background tick — each in its own transaction with a `Ctx` for its account and the clock
pinned to its due time. Work scheduled by a running item that is already due runs in the
same pass. A failing item is marked done with its error (``GET /_replica/due``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from sandbox.replica.store import Store

log = logging.getLogger(__name__)
Obj = dict[str, Any]
MAX_PER_PASS = 100_000


class DueWork:
    def __init__(self, store: Store) -> None:
        self.store = store

    def schedule(self, at: int, kind: str, account: str, payload: Obj) -> None:
        self.store.conn.execute(
            "INSERT INTO due_work(due_at, kind, account, payload) VALUES (?, ?, ?, ?)",
            (int(at), kind, account, json.dumps(payload)),
        )

    def next_due(self, now: int) -> tuple[int, int, str, str, Obj] | None:
        row = self.store.conn.execute(
            "SELECT seq, due_at, kind, account, payload FROM due_work"
            " WHERE done=0 AND due_at<=? ORDER BY due_at, seq LIMIT 1",
            (now,),
        ).fetchone()
        return (row[0], row[1], row[2], row[3], json.loads(row[4])) if row else None

    def run(self, now: int, execute: Callable[[int, str, str, Obj], None]) -> int:
        """Run every item due at or before `now`; `execute(due_at, kind, account, payload)`."""
        ran = 0
        while ran < MAX_PER_PASS:
            item = self.next_due(now)
            if item is None:
                break
            seq, due_at, kind, account, payload = item
            error = None
            try:
                execute(due_at, kind, account, payload)
            except Exception as exc:  # a broken behaviour must not stop the clock
                log.exception("due work %s failed", kind)
                error = f"{type(exc).__name__}: {exc}"
            self.store.conn.execute(
                "UPDATE due_work SET done=1, error=? WHERE seq=?", (error, seq)
            )
            ran += 1
        return ran

    def listing(self, *, pending_only: bool = False) -> list[Obj]:
        sql = "SELECT seq, due_at, kind, account, payload, done, error FROM due_work"
        if pending_only:
            sql += " WHERE done=0"
        cols = ("seq", "due_at", "kind", "account", "payload", "done", "error")
        rows = self.store.conn.execute(sql + " ORDER BY due_at, seq").fetchall()
        return [dict(zip(cols, r, strict=True)) | {"payload": json.loads(r[4])} for r in rows]
