"""Checkpointers: SQLite (a file in the data dir) by default, PostgreSQL when
FDE_DATABASE_URL points there. Opened as a context manager; tables are created on open."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from core.errors import StorageError
from core.settings import Settings

__all__ = ["open_checkpointer"]


def _pg_dsn(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme.startswith("postgresql") else url


@contextmanager
def open_checkpointer(settings: Settings) -> Iterator[Any]:
    url = settings.database_url
    if url and url.startswith("postgresql"):
        import psycopg
        from langgraph.checkpoint.postgres import PostgresSaver

        try:
            with PostgresSaver.from_conn_string(_pg_dsn(url)) as saver:
                saver.setup()
                yield saver
        except psycopg.OperationalError as exc:
            raise StorageError(f"cannot open the PostgreSQL checkpointer: {exc}",
                               hint="start PostgreSQL or correct FDE_DATABASE_URL") from None
        return
    from langgraph.checkpoint.sqlite import SqliteSaver

    path = settings.data_dir / "checkpoints.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
    try:
        saver = SqliteSaver(conn)
        saver.setup()
        yield saver
    finally:
        conn.close()
