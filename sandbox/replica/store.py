"""SQLite object store (stdlib sqlite3, WAL): objects, events and the replica's own records.

``objects``  every API object, keyed by (account, id), with its type, ``created``, a
             monotonically increasing ``seq`` (the rowid; list order is created desc, seq
             desc) and its JSON. ``customer`` is a real column; other list filters use
             expression indexes on ``json_extract(data, '$.field')`` (`ensure_index`).
             Deleted objects stay as tombstones (``deleted=1``) so a retrieve can answer
             ``{"deleted": true}`` where Stripe does; lists skip them.
``events``   same shape, ``type`` is the event type (``customer.created``).
``idempotency``, ``deliveries`` (webhook attempts), ``requests`` (request log),
``due_work`` (see duework.py) and ``meta`` (clock state) complete it.
``balance_sums`` running totals of balance transactions' ``net`` per (account, currency,
             status, source type), kept by triggers on ``objects`` (any writer, bulk loads
             included) so the balance never rescans every transaction (`balance_sums`).

One connection, used by the event-loop thread of the server; generators that bulk-load open
their own `Store` on the file before the server starts (or on a snapshot file).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sandbox.replica.listing import Page, PageQuery

SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    seq INTEGER PRIMARY KEY, account TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL,
    created INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, customer TEXT,
    data TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS objects_key ON objects(account, id);
CREATE INDEX IF NOT EXISTS objects_list ON objects(account, type, created DESC, seq DESC);
CREATE INDEX IF NOT EXISTS objects_customer
    ON objects(account, type, customer, created DESC, seq DESC);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY, account TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL,
    created INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, customer TEXT,
    data TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS events_key ON events(account, id);
CREATE INDEX IF NOT EXISTS events_list ON events(account, created DESC, seq DESC);
CREATE INDEX IF NOT EXISTS events_type ON events(account, type, created DESC, seq DESC);
CREATE TABLE IF NOT EXISTS idempotency (
    account TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL, body BLOB NOT NULL, created INTEGER NOT NULL,
    request_id TEXT, PRIMARY KEY (account, key));
CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency(created);
CREATE TABLE IF NOT EXISTS deliveries (
    seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL, endpoint_id TEXT NOT NULL,
    account TEXT NOT NULL, attempt INTEGER NOT NULL, status INTEGER, latency_ms REAL,
    error TEXT, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS requests (
    seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,
    route TEXT NOT NULL, status INTEGER NOT NULL, account TEXT, idempotency_key TEXT,
    fault TEXT, replayed INTEGER NOT NULL DEFAULT 0, request_id TEXT, query TEXT,
    api_version TEXT);
CREATE TABLE IF NOT EXISTS due_work (
    seq INTEGER PRIMARY KEY, due_at INTEGER NOT NULL, kind TEXT NOT NULL,
    account TEXT NOT NULL, payload TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0,
    error TEXT);
CREATE INDEX IF NOT EXISTS due_work_pending ON due_work(done, due_at, seq);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

# Running balance: one row per (account, currency, status, source type) holding the sum of
# ``net`` and the count of live balance transactions in it (a group goes when its count does).
_BT_KEY = ("json_extract({r}.data, '$.currency'), json_extract({r}.data, '$.status'),"
           " coalesce(json_extract({r}.data, '$._source_type'), 'card')")
_BT_NET = "coalesce(json_extract({r}.data, '$.net'), 0)"
BALANCE_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS balance_sums (
    account TEXT NOT NULL, currency TEXT, status TEXT, source_type TEXT,
    net INTEGER NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (account, currency, status, source_type));
CREATE TRIGGER IF NOT EXISTS balance_sums_insert AFTER INSERT ON objects
WHEN new.type = 'balance_transaction' AND new.deleted = 0 BEGIN
    INSERT INTO balance_sums VALUES (new.account, {_BT_KEY.format(r="new")},
                                     {_BT_NET.format(r="new")}, 1)
    ON CONFLICT (account, currency, status, source_type)
    DO UPDATE SET net = net + excluded.net, n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS balance_sums_delete AFTER DELETE ON objects
WHEN old.type = 'balance_transaction' AND old.deleted = 0 BEGIN
    UPDATE balance_sums SET net = net - {_BT_NET.format(r="old")}, n = n - 1
    WHERE (account, currency, status, source_type) = (old.account, {_BT_KEY.format(r="old")});
    DELETE FROM balance_sums WHERE n <= 0;
END;
CREATE TRIGGER IF NOT EXISTS balance_sums_update AFTER UPDATE OF data, deleted, type, account
ON objects WHEN old.type = 'balance_transaction' OR new.type = 'balance_transaction' BEGIN
    UPDATE balance_sums SET net = net - {_BT_NET.format(r="old")}, n = n - 1
    WHERE old.type = 'balance_transaction' AND old.deleted = 0
    AND (account, currency, status, source_type) = (old.account, {_BT_KEY.format(r="old")});
    INSERT INTO balance_sums SELECT new.account, {_BT_KEY.format(r="new")},
                                    {_BT_NET.format(r="new")}, 1
    WHERE new.type = 'balance_transaction' AND new.deleted = 0
    ON CONFLICT (account, currency, status, source_type)
    DO UPDATE SET net = net + excluded.net, n = n + 1;
    DELETE FROM balance_sums WHERE n <= 0;
END;
"""
_BALANCE_BACKFILL = f"""
INSERT INTO balance_sums
SELECT account, {_BT_KEY.format(r="objects")}, sum({_BT_NET.format(r="objects")}), count(*)
FROM objects WHERE type = 'balance_transaction' AND deleted = 0 GROUP BY 1, 2, 3, 4
"""

_FIELD = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$")
_TYPE = re.compile(r"^[a-z_][a-z0-9_.]*$")
_TABLES = ("objects", "events")


def _column(field: str) -> str:
    if field == "customer":
        return "customer"
    if not _FIELD.match(field):
        raise ValueError(f"not a filterable field: {field!r}")
    return f"json_extract(data, '$.{field}')"


def _customer_of(obj: dict[str, Any]) -> str | None:
    value = obj.get("customer")
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


class Store:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA busy_timeout=5000")  # a generator may hold the file briefly
        self.conn.executescript(SCHEMA)
        self._ensure_request_columns()
        self._ensure_balance_sums()
        self._depth = 0
        self._indexed: set[tuple[str, str]] = set()

    def _ensure_request_columns(self) -> None:
        """A request log made before ``query``/``api_version`` were recorded gains them."""
        have = {row[1] for row in self.conn.execute("PRAGMA table_info(requests)")}
        for column in ("query", "api_version"):
            if column not in have:
                self.conn.execute(f"ALTER TABLE requests ADD COLUMN {column} TEXT")

    def _ensure_balance_sums(self) -> None:
        """Create the running balance (and fill it, for a database made before it existed)."""
        known = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='balance_sums'").fetchone()
        if known:
            self.conn.executescript(BALANCE_SCHEMA)
            return
        self.conn.executescript("BEGIN IMMEDIATE;" + BALANCE_SCHEMA + _BALANCE_BACKFILL
                                + ";COMMIT;")

    def balance_sums(self, account: str) -> list[tuple[str, str, str, int]]:
        """(currency, status, source type, sum of ``net``) of `account`'s live balance
        transactions, one per group that has any, sorted — read from the running totals."""
        return self.conn.execute(
            "SELECT currency, status, source_type, net FROM balance_sums WHERE account=?"
            " ORDER BY currency, status, source_type", (account,)).fetchall()

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all (nesting joins the outer one)."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")
        finally:
            self._depth = 0

    def ensure_index(self, object_type: str, field: str) -> None:
        """Partial expression index (rows of `object_type` only) so ``field=value`` list
        filters stay fast at 100k+ objects without slowing inserts of other types."""
        if (object_type, field) in self._indexed or field == "customer":
            return
        if not _TYPE.match(object_type):
            raise ValueError(f"not an object type: {object_type!r}")
        name = "objects_f_" + f"{object_type}_{field}".replace(".", "_")
        self.conn.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON objects"
            f"(account, {_column(field)}, created DESC, seq DESC) WHERE type='{object_type}'"
        )
        self._indexed.add((object_type, field))

    # -- objects ---------------------------------------------------------------------------
    def get(self, account: str, object_id: str, *, table: str = "objects") -> dict | None:
        """The object (tombstones included) or None."""
        assert table in _TABLES
        row = self.conn.execute(
            f"SELECT data FROM {table} WHERE account=? AND id=?", (account, object_id)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def exists(self, account: str, object_id: str) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM objects WHERE account=? AND id=? AND deleted=0", (account, object_id)
        ).fetchone()
        return row is not None

    def insert(self, account: str, obj: dict[str, Any], *, object_id: str | None = None) -> None:
        table = "events" if obj.get("object") == "event" else "objects"
        self.conn.execute(
            f"INSERT INTO {table}(account, id, type, created, customer, data)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            self._row(account, obj, object_id),
        )

    def _row(self, account: str, obj: dict[str, Any], object_id: str | None) -> tuple:
        kind = obj["type"] if obj.get("object") == "event" else obj["object"]
        return (
            account,
            object_id or obj["id"],
            kind,
            int(obj.get("created") or 0),
            _customer_of(obj),
            json.dumps(obj, separators=(",", ":")),
        )

    def replace(self, account: str, obj: dict[str, Any], *, object_id: str | None = None) -> None:
        """Overwrite an object's data; its ``created`` and ``seq`` (list position) stay."""
        table = "events" if obj.get("object") == "event" else "objects"
        cur = self.conn.execute(
            f"UPDATE {table} SET data=?, customer=? WHERE account=? AND id=?",
            (json.dumps(obj, separators=(",", ":")), _customer_of(obj), account,
             object_id or obj["id"]),
        )
        if cur.rowcount != 1:
            raise KeyError(object_id or obj["id"])

    def tombstone(self, account: str, object_id: str, stub: dict[str, Any]) -> None:
        self.conn.execute(
            "UPDATE objects SET deleted=1, data=? WHERE account=? AND id=?",
            (json.dumps(stub, separators=(",", ":")), account, object_id),
        )

    def bulk_insert(self, objects: Iterable[dict[str, Any]], *, account: str) -> int:
        """Fast path for generators: one transaction, executemany. Events go to ``events``."""
        objs, evts = [], []
        for obj in objects:
            (evts if obj.get("object") == "event" else objs).append(self._row(account, obj, None))
        sql = "INSERT INTO {}(account, id, type, created, customer, data) VALUES (?,?,?,?,?,?)"
        with self.transaction():
            self.conn.executemany(sql.format("objects"), objs)
            self.conn.executemany(sql.format("events"), evts)
        return len(objs) + len(evts)

    def bulk_insert_canonical(self, objects: Iterable[dict[str, Any]], *, account: str) -> int:
        """`bulk_insert`, storing each document as canonical JSON (keys sorted at every level,
        compact separators): text an export can copy as is instead of re-serialising it."""
        objs, evts = [], []
        for obj in objects:
            is_event = obj.get("object") == "event"
            (evts if is_event else objs).append((
                account, obj["id"], obj["type"] if is_event else obj["object"],
                int(obj.get("created") or 0), _customer_of(obj),
                json.dumps(obj, sort_keys=True, separators=(",", ":"))))
        sql = "INSERT INTO {}(account, id, type, created, customer, data) VALUES (?,?,?,?,?,?)"
        with self.transaction():
            self.conn.executemany(sql.format("objects"), objs)
            self.conn.executemany(sql.format("events"), evts)
        return len(objs) + len(evts)

    def count(self, account: str, object_type: str) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM objects WHERE account=? AND type=? AND deleted=0",
            (account, object_type),
        ).fetchone()[0]

    def list(self, account: str, query: PageQuery, *, table: str = "objects") -> Page:
        """One page, newest first (created desc, seq desc), honouring the cursors."""
        assert table in _TABLES
        where = ["account=?", "deleted=0"]
        args: list[Any] = [account]
        if len(query.types) == 1 and _TYPE.match(query.types[0]):
            # A literal (not a parameter) lets SQLite use the partial per-type indexes.
            where.append(f"type='{query.types[0]}'")
        elif query.types:
            where.append(f"type IN ({','.join('?' * len(query.types))})")
            args.extend(query.types)
        if query.type_glob:
            where.append("type GLOB ?")
            args.append(query.type_glob)
        if query.delivered is not None:
            where.append("json_extract(data, '$.pending_webhooks') "
                         + ("= 0" if query.delivered else "> 0"))
        for field, value in query.filters.items():
            if isinstance(value, list | tuple):
                where.append(f"{_column(field)} IN ({','.join('?' * len(value))})")
                args.extend(value)
            else:
                where.append(f"{_column(field)} = ?")
                args.append(value)
        for op, value in query.created.items():
            where.append(f"created {op} ?")
            args.append(value)
        cursor_id = query.starting_after or query.ending_before
        ascending = query.ending_before is not None
        if cursor_id:
            row = self.conn.execute(
                f"SELECT created, seq FROM {table} WHERE account=? AND id=?", (account, cursor_id)
            ).fetchone()
            if row is None:
                return Page(data=[], has_more=False, cursor_missing=True)
            where.append("(created, seq) > (?, ?)" if ascending else "(created, seq) < (?, ?)")
            args.extend(row)
        order = "created ASC, seq ASC" if ascending else "created DESC, seq DESC"
        rows = self.conn.execute(
            f"SELECT data FROM {table} WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ?",
            (*args, query.limit + 1),
        ).fetchall()
        data = [json.loads(r[0]) for r in rows[: query.limit]]
        if ascending:
            data.reverse()
        return Page(data=data, has_more=len(rows) > query.limit)

    def iter_type(self, account: str, object_type: str) -> Iterator[dict[str, Any]]:
        for (data,) in self.conn.execute(
            "SELECT data FROM objects WHERE account=? AND type=? AND deleted=0 ORDER BY seq",
            (account, object_type),
        ):
            yield json.loads(data)

    # -- idempotency -----------------------------------------------------------------------
    def idempotency_get(
        self, account: str, key: str, since: int
    ) -> tuple[str, int, bytes, str] | None:
        """(fingerprint, status, body, original request id) of a live record, or None."""
        row = self.conn.execute(
            "SELECT fingerprint, status, body, request_id FROM idempotency"
            " WHERE account=? AND key=? AND created>=?",
            (account, key, since),
        ).fetchone()
        return (row[0], row[1], bytes(row[2]), row[3]) if row else None

    def idempotency_put(
        self, account: str, key: str, fingerprint: str, status: int, body: bytes, created: int,
        request_id: str,
    ) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO idempotency VALUES (?, ?, ?, ?, ?, ?, ?)",
            (account, key, fingerprint, status, body, created, request_id),
        )

    def idempotency_prune(self, before: int) -> int:
        return self.conn.execute("DELETE FROM idempotency WHERE created < ?", (before,)).rowcount

    # -- meta ------------------------------------------------------------------------------
    def meta_get(self, key: str) -> Any:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def meta_set(self, key: str, value: Any) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value))
        )

    # -- snapshots -------------------------------------------------------------------------
    def save_snapshot(self, path: str | Path) -> None:
        """Copy the whole database to `path` (sqlite online backup: consistent, fast)."""
        dst = sqlite3.connect(str(path))
        try:
            self.conn.backup(dst)
        finally:
            dst.close()

    def load_snapshot(self, path: str | Path) -> None:
        """Replace the whole database with the one saved at `path`."""
        src = sqlite3.connect(str(path))
        try:
            src.backup(self.conn)
        finally:
            src.close()
        self.conn.executescript(SCHEMA)
        self._ensure_balance_sums()
        self._indexed.clear()
