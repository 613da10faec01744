"""The canonical export of a built world: one JSON document per line, sorted, so "the same
world" means "the same bytes" (`snapshot.jsonl`).

Lines, in order: replica objects (by account, type, id), events (by created, id),
webhook delivery attempts (in recorded order), pending due work, then every table of the
company DB (rows by primary key, datetimes as ISO-8601 UTC). Keys are sorted inside every
line (compact separators, ASCII); nothing depends on the wall clock or on SQLite page layout.

Events a generator stored already canonical (the bulk history: `Store.bulk_insert_canonical`,
their seq range in the meta key `CANONICAL_EVENTS`) are copied as stored — the same bytes a
parse and re-serialisation would give — instead of being parsed and dumped again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from sandbox.replica.store import Store
from sandbox.usersys.models import TABLES


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    raise TypeError(type(value).__name__)


CANONICAL_EVENTS = "canonical_events"  # meta: [first, last] seq of canonically stored events
_dump = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=_default).encode


def _replica_lines(store: Store) -> Iterator[str]:
    for account, oid, kind, data in store.conn.execute(
            "SELECT account, id, type, data FROM objects ORDER BY account, type, id"):
        yield _dump({"kind": "object", "account": account, "id": oid, "type": kind,
                     "data": json.loads(data)})
    first, last = store.meta_get(CANONICAL_EVENTS) or (0, -1)
    for seq, account, oid, data in store.conn.execute(
            "SELECT seq, account, id, data FROM events ORDER BY created, id"):
        if not first <= seq <= last:
            data = _dump(json.loads(data))
        # = _dump({"kind": "event", "account": account, "id": oid, "data": <data>})
        yield f'{{"account":{_dump(account)},"data":{data},"id":{_dump(oid)},"kind":"event"}}'
    cols = ("event_id", "endpoint_id", "account", "attempt", "status", "latency_ms", "error",
            "at")
    for row in store.conn.execute(f"SELECT {', '.join(cols)} FROM deliveries ORDER BY seq"):
        yield _dump({"kind": "delivery", **dict(zip(cols, row, strict=True))})
    for due_at, kind, account, payload in store.conn.execute(
            "SELECT due_at, kind, account, payload FROM due_work WHERE done=0"
            " ORDER BY due_at, seq"):
        yield _dump({"kind": "due_work", "due_at": due_at, "work": kind, "account": account,
                     "payload": json.loads(payload)})


def _userdb_lines(engine: Engine) -> Iterator[str]:
    with engine.connect() as conn:
        for table in TABLES:
            pk = list(table.primary_key.columns)
            for row in conn.execute(select(table).order_by(*pk)):
                yield _dump({"kind": "row", "table": table.name, "row": dict(row._mapping)})


def write_snapshot(path: Path, store: Store, userdb: Engine) -> str:
    """Write the export; answer its sha256."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for line in chain(_replica_lines(store), _userdb_lines(userdb)):
            raw = line.encode() + b"\n"
            out.write(raw)
            digest.update(raw)
    return digest.hexdigest()


__all__ = ["CANONICAL_EVENTS", "write_snapshot"]
