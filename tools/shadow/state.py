"""The user state a handler leaves behind, read through the reconciliation adapter and the
user's mapping file, flattened to ``(entity, row identity, field) -> value``.

Row identity is the Stripe id for entities that have one; for local-only rows (the sample
company's entitlements) it is ``source_id|feature`` plus an ordinal, so a second row for
the same grant is a new identity, not a changed one. Local primary keys are left out: two
correct runs may number their rows differently.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import polars as pl
from sqlalchemy import MetaData, delete

from tools.recon.adapter import UserSystem

__all__ = ["StateView", "read_state", "reset_state"]

StateView = dict[tuple[str, str, str], Any]
_SKIP = frozenset({"local_key", "_pk", "stripe_id"})


def _identity(entity: str, row: dict[str, Any], seen: Counter[str]) -> str:
    if row.get("stripe_id"):
        base = str(row["stripe_id"])
    elif row.get("source_id") is not None:
        base = f"{row['source_id']}|{row.get('feature') or ''}"
    else:
        base = str(row.get("local_key"))
    seen[base] += 1
    return base if seen[base] == 1 else f"{base}#{seen[base]}"


def read_state(user: UserSystem, entities: list[str] | None = None) -> StateView:
    view: StateView = {}
    for entity, frame in user.load(entities).items():
        seen: Counter[str] = Counter()
        # Row order = insertion order, so ordinals of duplicate identities are stable.
        rows = frame.sort(pl.col("_pk").cast(pl.Int64, strict=False), pl.col("_pk"))
        for row in rows.iter_rows(named=True):
            key = _identity(entity, row, seen)
            for name, value in row.items():
                if name not in _SKIP:
                    view[(entity, key, name)] = value
    return view


def reset_state(user: UserSystem) -> int:
    """Empty every table of the user database (children first); rows deleted."""
    meta = MetaData()
    deleted = 0
    with user.engine.begin() as conn:
        meta.reflect(conn)
        for table in reversed(meta.sorted_tables):
            deleted += conn.execute(delete(table)).rowcount or 0
    return deleted
