"""Usage rows from the user's system: a CSV file or a SQL query, read the same way.

Rows keep their own id (the idempotency anchor), the customer key, an exact decimal value
and a unix timestamp. Bad rows are errors naming the row, never skipped silently.
"""

from __future__ import annotations

import csv
import os
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from tools.blueprints.errors import BlueprintInvalid
from tools.blueprints.spec_usage import SqlSource, UsageColumns

__all__ = ["UsageRow", "read_csv", "read_sql"]


class UsageRow(BaseModel):
    id: str
    customer: str
    value: Decimal
    timestamp: int


def _timestamp(raw: Any) -> int:
    if isinstance(raw, datetime):
        return int((raw if raw.tzinfo else raw.replace(tzinfo=UTC)).timestamp())
    text_value = str(raw).strip()
    if text_value.isdigit():
        return int(text_value)
    parsed = datetime.fromisoformat(text_value.replace("Z", "+00:00"))
    return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp())


def _rows(records: list[dict[str, Any]], cols: UsageColumns, where: str) -> list[UsageRow]:
    out: list[UsageRow] = []
    for n, rec in enumerate(records, start=1):
        missing = [c for c in (cols.id, cols.customer, cols.value, cols.timestamp)
                   if rec.get(c) in (None, "")]
        if missing:
            raise BlueprintInvalid(f"{where} row {n}: column(s) {', '.join(missing)} empty or "
                                   "missing", hint="fix the row or usage.columns")
        try:
            out.append(UsageRow(id=str(rec[cols.id]), customer=str(rec[cols.customer]),
                                value=Decimal(str(rec[cols.value])),
                                timestamp=_timestamp(rec[cols.timestamp])))
        except (InvalidOperation, ValueError) as exc:
            raise BlueprintInvalid(f"{where} row {n}: {exc}") from None
    ids = [r.id for r in out]
    if len(set(ids)) != len(ids):
        raise BlueprintInvalid(f"{where}: the id column {cols.id!r} repeats values; usage ids "
                               "must be unique (they become meter event identifiers)")
    return out


def read_csv(base_dir: Path, relative: str, cols: UsageColumns) -> list[UsageRow]:
    path = (base_dir / relative).resolve()
    try:
        with path.open(newline="") as fh:
            records = list(csv.DictReader(fh))
    except FileNotFoundError:
        raise BlueprintInvalid(f"usage.csv: no file at {path}",
                               hint="the path is relative to the blueprint file") from None
    return _rows(records, cols, f"usage file {path.name}")


def read_sql(source: SqlSource, cols: UsageColumns) -> list[UsageRow]:
    url = os.environ.get(source.dsn_env)
    if not url:
        raise BlueprintInvalid(f"usage.sql.dsn_env: environment variable {source.dsn_env} is "
                               "not set", hint="export it with the user database URL")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            records = [dict(r._mapping) for r in conn.execute(text(source.query))]
    except SQLAlchemyError as exc:
        raise BlueprintInvalid(f"usage.sql.query failed: {exc.__class__.__name__}: "
                               f"{str(exc).splitlines()[0]}") from None
    finally:
        engine.dispose()
    return _rows(records, cols, "usage query")
