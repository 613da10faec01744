"""The user state a handler leaves behind, flattened to ``(entity, row identity, field) ->
value`` so two runs compare field by field, whatever the state came from:

- a database read through the user's mapping file (`read_state`: canonical values, refs
  resolved to Stripe ids);
- a database read as it is, every table of it (`read_tables`);
- a JSON document from the app's own state URL (`flatten_document`): tables as lists of
  rows, or any nested document.

Row identity is what a row is *about*, never where it sits: the Stripe id for mapped
entities that have one (``source_id|feature`` for local-only grants), else a natural key
(a non-numeric primary key, a unique column, the Stripe-id-like values of the row), plus an
ordinal when several rows share it — so a second row for the same grant is a new identity,
not a changed one. Numeric surrogate keys are left out: two correct runs may number their
rows differently, and with concurrent delivery lanes they do.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

import polars as pl
from sqlalchemy import Integer, MetaData, select
from sqlalchemy.engine import Engine

from tools.recon.adapter import UserSystem

__all__ = ["StateView", "flatten_document", "read_state", "read_tables", "row_identity"]

StateView = dict[tuple[str, str, str], Any]
_SKIP = frozenset({"local_key", "_pk", "stripe_id"})
# A Stripe object id: a lowercase prefix (``cus``, ``in``, ``evt``, ``sub_sched``) and a
# long random tail. Used to pick the columns that say what a row is about.
_STRIPE_ID = re.compile(r"^[a-z]{2,}(?:_[a-z]+)*_[A-Za-z0-9]{8,}$")


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
    """Mapped entities of the user database."""
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


def row_identity(row: dict[str, Any], key: Iterable[str] = ()) -> str:
    """What a row of an unmapped table or document is about: the `key` columns when given,
    else an ``id`` field, else its Stripe-id-like values, else all of its scalar values."""
    key = list(key)
    if key:
        return "|".join(str(row.get(k)) for k in key)
    if isinstance(row.get("id"), str | int) and not isinstance(row.get("id"), bool):
        return str(row["id"])
    ids = [str(v) for v in row.values() if isinstance(v, str) and _STRIPE_ID.match(v)]
    if ids:
        return "|".join(ids)
    return "|".join(f"{k}={v}" for k, v in sorted(row.items())
                    if not isinstance(v, dict | list))


def _add_rows(view: StateView, entity: str, rows: list[dict[str, Any]],
              key: list[str] | None = None) -> None:
    keyed = [(row_identity(r, key or ()), r) for r in rows]
    # Rows sharing an identity are numbered in content order, not arrival order, so
    # concurrent delivery does not renumber them.
    keyed.sort(key=lambda kr: (kr[0], repr(sorted(kr[1].items(), key=lambda i: i[0]))))
    seen: Counter[str] = Counter()
    for base, row in keyed:
        seen[base] += 1
        ident = base if seen[base] == 1 else f"{base}#{seen[base]}"
        fields = _flatten(row)
        if not fields:
            view[(entity, ident, "(row)")] = True
        for name, value in fields.items():
            view[(entity, ident, name)] = value


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        out = {}
        for i, v in enumerate(value):
            out.update(_flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix or "$": value}


def _is_table(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _keyed_by_id(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(
        isinstance(k, str) and _STRIPE_ID.match(k) and isinstance(v, dict)
        for k, v in value.items())


def flatten_document(doc: Any) -> StateView:
    """A JSON state document: every list of objects is a table (entity = its path), every
    object keyed by Stripe ids is a table keyed by them, other values are fields of the
    row ``-`` of the entity that holds them."""
    view: StateView = {}

    def walk(value: Any, path: str) -> None:
        if _is_table(value):
            _add_rows(view, path or "$", value)
        elif _keyed_by_id(value):
            _add_rows(view, path or "$", [{"id": k, **v} for k, v in value.items()])
        elif isinstance(value, dict):
            for k, v in value.items():
                if v == []:
                    continue  # an empty table: no rows (a filled one is a table)
                if _is_table(v) or isinstance(v, dict):
                    walk(v, f"{path}.{k}" if path else str(k))
                else:
                    view[(path or "$", "-", str(k))] = v
        else:
            view[(path or "$", "-", "$")] = value

    walk(doc, "")
    return view


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)  # datetimes, decimals, uuids: compared as text


def read_tables(engine: Engine, tables: list[str] | None = None) -> StateView:
    """Every table of the database (or `tables`), as it is. Numeric surrogate primary keys
    are dropped, and a foreign key to one is replaced by the identity of the row it points
    at (insertion order, and so the numbers, differ between correct runs). A table's
    natural key is its non-numeric primary key or, failing that, its first unique
    constraint."""
    meta = MetaData()
    view: StateView = {}
    identities: dict[str, dict[Any, str]] = {}  # table -> surrogate pk -> row identity
    with engine.connect() as conn:
        meta.reflect(conn, only=tables)
        for table in meta.sorted_tables:  # parents first: their identities are known
            pk = list(table.primary_key.columns)
            surrogate = pk[0].name if len(pk) == 1 and isinstance(pk[0].type, Integer) \
                else None
            refs = {fk.parent.name: fk.column.table.name for fk in table.foreign_keys
                    if fk.column.table.name in identities}
            key = [c.name for c in pk if c.name != surrogate]
            if not key:
                unique = [list(u.columns) for u in table.constraints
                          if u.__class__.__name__ == "UniqueConstraint"]
                unique += [list(i.columns) for i in table.indexes if i.unique]
                key = [c.name for c in unique[0]] if unique else []
            rows, numbers = [], []
            for record in conn.execute(select(table)):
                row = {k: _plain(v) for k, v in record._mapping.items() if k != surrogate}
                for column, parent in refs.items():
                    if row.get(column) is not None:
                        row[column] = identities[parent].get(row[column], row[column])
                rows.append(row)
                numbers.append(record._mapping[surrogate] if surrogate else None)
            if surrogate:
                identities[table.name] = {n: row_identity(r, key)
                                          for n, r in zip(numbers, rows, strict=True)}
            _add_rows(view, table.name, rows, key)
    return view
