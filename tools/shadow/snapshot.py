"""A snapshot of a handler's database taken before the run, and restoring it before each
replay — reference tables (plans, tiers, price books) stay as the app seeded them.

- SQLite: the online backup API, both ways (a page copy into a temporary file; restoring
  copies the pages back into the live file). The app may keep its connections open: each
  sees the restored database at its next transaction.
- Any other database (PostgreSQL, MySQL): a logical snapshot — every row of every table
  of the default schema and every sequence's position, read in one transaction; restoring
  rewrites the tables to those rows and moves the sequences back, in one transaction. A
  running app keeps its connection pool (``CREATE DATABASE … TEMPLATE`` would need every
  connection to the database closed first). Sized for staging databases a replay writes
  into, not for production dumps.

docs/decisions/0004-shadow-state-and-delivery.md says why.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, Table, delete, insert, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from tools.shadow.errors import TargetError

__all__ = ["DatabaseSnapshot", "take_snapshot"]


class DatabaseSnapshot:
    def restore(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Drop what the snapshot holds (its temporary file)."""


class SqliteSnapshot(DatabaseSnapshot):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.folder = tempfile.TemporaryDirectory(prefix="fde-shadow-snap-")
        self.copy = Path(self.folder.name) / "snapshot.sqlite"
        with sqlite3.connect(path, timeout=30) as live, sqlite3.connect(self.copy) as snap:
            live.backup(snap)

    def restore(self) -> None:
        with sqlite3.connect(self.copy) as snap, sqlite3.connect(self.path, timeout=30) as live:
            snap.backup(live)

    def close(self) -> None:
        self.folder.cleanup()


class LogicalSnapshot(DatabaseSnapshot):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.meta = MetaData()
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.sequences: list[tuple[str, int, bool]] = []
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            self.meta.reflect(conn)
            for table in self.meta.sorted_tables:
                self.rows[table.name] = [dict(r._mapping) for r in conn.execute(select(table))]
            if engine.dialect.name == "postgresql":
                for (name,) in conn.execute(text(
                        "SELECT quote_ident(sequence_schema) || '.' || quote_ident("
                        "sequence_name) FROM information_schema.sequences "
                        "WHERE sequence_schema = current_schema()")):
                    value, called = conn.execute(
                        text(f"SELECT last_value, is_called FROM {name}")).one()
                    self.sequences.append((name, int(value), bool(called)))

    def restore(self) -> None:
        tables: list[Table] = self.meta.sorted_tables
        with self.engine.begin() as conn:
            for table in reversed(tables):  # children first
                conn.execute(delete(table))
            for table in tables:  # parents first
                if self.rows[table.name]:
                    conn.execute(insert(table), self.rows[table.name])
            for name, value, called in self.sequences:
                conn.execute(text("SELECT setval(:n, :v, :c)"),
                             {"n": name, "v": value, "c": called})


def take_snapshot(engine: Engine) -> DatabaseSnapshot:
    """The database as it is now; `restore()` brings it back to this."""
    try:
        if engine.dialect.name == "sqlite":
            path = engine.url.database
            if not path or path == ":memory:":
                raise TargetError(f"{engine.url} is an in-memory SQLite database: the "
                                  "handler's own copy cannot be snapshotted from here",
                                  hint="give the app a database file")
            if not Path(path).exists():
                raise TargetError(f"SQLite database {path} does not exist",
                                  hint="start the app (or run its migration) first")
            return SqliteSnapshot(Path(path))
        return LogicalSnapshot(engine)
    except (SQLAlchemyError, sqlite3.Error) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise TargetError(f"cannot snapshot {engine.url.render_as_string(hide_password=True)}"
                          f": {reason}") from None
