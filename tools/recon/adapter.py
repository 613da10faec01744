"""User-system adapter: the user's SQL database (SQLite, PostgreSQL, ...) read through a
mapping file into canonical Polars frames, one per entity.

Each frame has ``local_key`` ("table:pk", the row's address for evidence and repairs),
``stripe_id`` (the key column, null when the entity has none), ``account`` and ``livemode``
when mapped, and one column per mapped field holding canonical values: unix seconds for
timestamps (read from epoch numbers, SQL datetimes or ISO-8601 text, tools/recon/
local_values.py), 'YYYY-MM-DD' for dates, integer minor units for money, the referenced
row's Stripe id for refs. Version 2 mappings also filter rows (`where`), drop local-only
rows (`null_key`), derive an entitlement's `active` and translate single-word `values` of
tables with no Stripe counterpart; words that need the Stripe side are left to
tools/recon/align.py.
"""

from __future__ import annotations

from collections.abc import Mapping as TMapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl
from sqlalchemy import MetaData, Table, create_engine, literal_column, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from tools.recon.errors import MappingError, UserSystemUnreachable
from tools.recon.local_values import BadValue, to_bool, to_date, to_epoch, to_minor
from tools.recon.mapping import EntitySpec, FieldSpec, Mapping, check_schema
from tools.recon.mapping_expr import compile_sql

__all__ = ["LocalFrames", "UserSystem", "currency_column", "dtype_for", "open_user_system"]

LocalFrames = dict[str, pl.DataFrame]

_DTYPES: dict[str, pl.DataType] = {
    "string": pl.String(), "ref": pl.String(), "int": pl.Int64(), "money": pl.Int64(),
    "timestamp": pl.Int64(), "date": pl.String(), "bool": pl.Boolean(), "flag": pl.Boolean(),
}


def dtype_for(spec: FieldSpec) -> pl.DataType:
    return _DTYPES[spec.type]


def _describe(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable DSN)"


def _canonical(spec: FieldSpec, value: Any, currency: Any = None) -> Any:
    kind = spec.type
    if kind == "flag":
        return value is not None
    if kind == "bool":
        return to_bool(value)
    if value is None:
        return None
    if kind == "int":
        return int(Decimal(str(value)))
    if kind == "money":
        return to_minor(value, currency, spec.unit)
    if kind == "timestamp":
        return to_epoch(value, spec.timezone)
    if kind == "date":
        return to_date(value, spec.timezone)
    return str(value)


@dataclass
class RawTable:
    """One table as read: every column by its own name, plus `_pk` (the row's address)."""

    frame: pl.DataFrame
    rows: list[dict[str, Any]]


class UserSystem:
    """A connection to the user's database plus its mapping; `load()` reads every entity.

    After `load()`, `excluded[entity]` holds the Stripe ids of rows a `where` filter left
    out (their Stripe objects are not expected either) and `warnings` what could not be
    read (e.g. a timestamp in no known form), each naming the entity and column.
    """

    def __init__(self, engine: Engine, mapping: Mapping) -> None:
        self.engine = engine
        self.mapping = mapping
        self._address: dict[str, list[str]] | None = None
        self.excluded: dict[str, list[str]] = {}
        self.warnings: list[str] = []

    def check(self) -> dict[str, str]:
        """Connects and validates the mapping against the schema (MappingError names the
        missing table/column; UserSystemUnreachable when the server does not answer).
        Returns each entity's primary-key column ("" when the row address is not one
        column: composite keys, rowid)."""
        return {n: cols[0] if len(cols) == 1 else "" for n, cols in self._addresses().items()}

    def _addresses(self) -> dict[str, list[str]]:
        if self._address is None:
            try:
                with self.engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
            except (OperationalError, SQLAlchemyError) as exc:
                reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
                raise UserSystemUnreachable(
                    f"cannot reach the user database {_describe(str(self.engine.url))}: {reason}"
                ) from None
            self._address = check_schema(self.mapping, self.engine)
        return self._address

    def load(self, entities: list[str] | None = None) -> LocalFrames:
        primary = self._addresses()
        names = entities or list(self.mapping.entities)
        unknown = [n for n in names if n not in self.mapping.entities]
        if unknown:
            raise MappingError(f"the mapping defines no entity {', '.join(map(repr, unknown))}")
        # refs (and currencies read through them) need their target's rows
        needed, todo = set(), list(names)
        while todo:
            name = todo.pop()
            if name not in needed:
                needed.add(name)
                todo += [f.entity for f in self.mapping.entities[name].fields.values()
                         if f.type == "ref" and f.entity]
        raw = {n: self._read(self.mapping.entities[n], primary[n]) for n in needed}
        self.excluded, self.warnings = {}, []
        kept: dict[str, list[bool]] = {}
        return {n: self._frame(n, self.mapping.entities[n], raw, kept) for n in names}

    def _kept(self, name: str, raw: dict[str, RawTable], kept: dict[str, list[bool]],
              seen: frozenset[str] = frozenset()) -> list[bool]:
        """Rows `where` keeps; a row whose ref points at a row left out is left out too
        (an archived workspace's subscriptions are ignored with it)."""
        if name in kept:
            return kept[name]
        entity = self.mapping.entities[name]
        table = raw[name]
        keep = _where(name, entity, table.frame, "where", entity.where)
        for spec in entity.fields.values():
            target = spec.entity
            if spec.type != "ref" or not target or target in seen or target == name:
                continue
            mask = self._kept(target, raw, kept, seen | {name})
            if all(mask):
                continue
            out = {r["_pk"] for r, k in zip(raw[target].rows, mask, strict=True) if not k}
            keep = [k and (r[spec.column] is None or str(r[spec.column]) not in out)
                    for r, k in zip(table.rows, keep, strict=True)]
        kept[name] = keep
        return keep

    def _read(self, entity: EntitySpec, pk: list[str]) -> RawTable:
        meta = MetaData()
        try:
            with self.engine.connect() as conn:
                table = Table(entity.table, meta, autoload_with=conn)
                columns = [c.name for c in table.columns]
                address = [table.c[c] for c in pk] or [_row_address(conn)]
                rows = conn.execute(select(*(table.c[c] for c in columns), *address)).all()
        except OperationalError as exc:
            reason = str(exc.orig or exc).strip().splitlines()[0]
            raise UserSystemUnreachable(
                f"reading {entity.table!r} from the user database failed: {reason}"
            ) from None
        width = len(columns)
        dicts = [dict(zip(columns, r[:width], strict=True)) for r in rows]
        for d, r in zip(dicts, rows, strict=True):
            d["_pk"] = "/".join("" if v is None else str(v) for v in r[width:])
        series = [pl.Series(c, [d[c] for d in dicts], dtype=_raw_dtype(d[c] for d in dicts),
                            strict=False) for c in [*columns, "_pk"]]
        return RawTable(pl.DataFrame(series), dicts)

    def _frame(self, name: str, entity: EntitySpec, raw: dict[str, RawTable],
               kept: dict[str, list[bool]]) -> pl.DataFrame:
        table = raw[name]
        keep = self._kept(name, raw, kept) if self.mapping.version >= 2 else [True] * len(
            table.rows)
        rows = [r for r, k in zip(table.rows, keep, strict=True) if k]
        if entity.key:
            self.excluded[name] = [str(r[entity.key]) for r, k in zip(table.rows, keep,
                                                                       strict=True)
                                   if not k and r[entity.key] is not None]
        data: dict[str, list[Any]] = {"_pk": [r["_pk"] for r in rows]}
        schema: dict[str, pl.DataType] = {"_pk": pl.String()}
        for what, out in (("key", "stripe_id"), ("account", "account")):
            column = getattr(entity, what)
            if column:
                data[out] = [None if r[column] is None else str(r[column]) for r in rows]
                schema[out] = pl.String()
        if entity.livemode:
            data["livemode"] = [None if r[entity.livemode] is None else to_bool(r[entity.livemode])
                                for r in rows]
            schema["livemode"] = pl.Boolean()
        for fname, spec in entity.fields.items():
            currencies = self._currencies(entity, spec, rows, raw)
            values = []
            for i, r in enumerate(rows):
                try:
                    values.append(_canonical(spec, r[spec.column], currencies[i]))
                except BadValue as exc:
                    values.append(None)
                    if len(self.warnings) < 50:
                        self.warnings.append(f"{entity.table}.{spec.column} (entity {name!r} "
                                             f"field {fname!r}), row {r['_pk']}: {exc}")
            data[fname], schema[fname] = values, dtype_for(spec)
        extra = _currency_columns(entity)
        for column in extra:
            data[currency_column(entity, column)] = [
                None if r[column] is None else str(r[column]).lower() for r in rows]
            schema[currency_column(entity, column)] = pl.String()
        frame = pl.DataFrame(data, schema=schema)
        if self.mapping.version >= 2:
            frame = _v2_columns(name, entity, frame, table.frame.filter(pl.Series(keep)))
        frame = frame.with_columns(local_key=pl.lit(f"{entity.table}:") + pl.col("_pk"))
        lower = [currency_column(entity, s.currency) for s in entity.fields.values()
                 if s.type == "money" and s.currency and "." not in s.currency]
        frame = frame.with_columns(pl.col(c).str.to_lowercase() for c in dict.fromkeys(lower))
        return _resolve_refs(frame, entity, raw, self.mapping)

    def _currencies(self, entity: EntitySpec, spec: FieldSpec, rows: list[dict[str, Any]],
                    raw: dict[str, RawTable]) -> list[Any]:
        if spec.type != "money" or not spec.currency:
            return [None] * len(rows)
        if "." not in spec.currency:
            return [r[spec.currency] for r in rows]
        via, column = spec.currency.split(".", 1)
        ref = entity.fields[via]
        target = {r["_pk"]: r[column] for r in raw[ref.entity or ""].rows}
        return [target.get(None if r[ref.column] is None else str(r[ref.column])) for r in rows]


def _row_address(conn: Any) -> Any:
    """A table without a primary key: SQLite's rowid, PostgreSQL's ctid, else nothing."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        return literal_column("rowid")
    if dialect == "postgresql":
        return literal_column("ctid::text")
    raise MappingError("a table without a primary key needs `primary_key:` in the mapping")


def _raw_dtype(values: Any) -> pl.DataType | None:
    kinds = {type(v) for v in values if v is not None}
    if kinds <= {str}:
        return pl.String()
    if kinds <= {bool}:
        return pl.Boolean()
    if kinds <= {int, bool}:
        return pl.Int64()
    if kinds <= {int, float}:
        return pl.Float64()
    return None  # let Polars infer (Decimal, datetime, date)


def _where(name: str, entity: EntitySpec, raw: pl.DataFrame, part: str,
           source: str | None) -> list[bool]:
    """The rows a row filter keeps (all rows when there is none); NULL = not kept."""
    if source is None:
        return [True] * raw.height
    expr = compile_sql(source, where=f"entities.{name}.{part}")
    return [bool(v) for v in expr.evaluate(raw).fill_null(False).to_list()]


def _v2_columns(name: str, entity: EntitySpec, frame: pl.DataFrame,
                raw: pl.DataFrame) -> pl.DataFrame:
    """Local-only rows (`null_key`), the entitlement's `active`, single-word `values`."""
    if entity.kind == "entitlement" and "active" not in entity.fields:
        active = _where(name, entity, raw, "active", entity.active)
        frame = frame.with_columns(active=pl.Series(active, dtype=pl.Boolean))
    if entity.key and entity.kind == "mirror":
        null = frame["stripe_id"].is_null()
        mode = entity.null_key or "ignore"
        if mode == "ignore":
            drop = null
        elif mode == "match":
            drop = pl.Series([False] * frame.height)
        else:
            ignore = pl.Series(_where(name, entity, raw, "null_key.ignore_when",
                                      mode.ignore_when))
            drop = null & ignore
        frame = frame.filter(~drop)
    if entity.kind != "mirror":  # nothing to pick a word against: single words only
        for fname, spec in entity.fields.items():
            if spec.values:
                words = {k: v if isinstance(v, str) else v[0] for k, v in spec.values.items()
                         if isinstance(v, str) or v}
                frame = frame.with_columns(pl.col(fname).replace(words))
    return frame


def _currency_columns(entity: EntitySpec) -> list[str]:
    mapped = {f.column for f in entity.fields.values()}
    return sorted({s.currency for s in entity.fields.values()
                   if s.type == "money" and s.currency and "." not in s.currency} - mapped)


def currency_column(entity: EntitySpec, column: str | None) -> str:
    """The frame column holding the currency stored in table column `column`."""
    for fname, spec in entity.fields.items():
        if spec.column == column and spec.type == "string":
            return fname
    return f"_cur_{column}"


def _resolve_refs(
    frame: pl.DataFrame, entity: EntitySpec, raw: TMapping[str, RawTable], mapping: Mapping
) -> pl.DataFrame:
    for fname, spec in entity.fields.items():
        if spec.type != "ref" or not spec.entity:
            continue
        target = mapping.entities[spec.entity]
        if not target.key:
            continue  # a ref to a local-only entity keeps the local pk
        lookup = raw[spec.entity].frame.select(
            pl.col("_pk").alias(fname), pl.col(target.key).cast(pl.String).alias("_ref"))
        frame = (frame.join(lookup, on=fname, how="left", maintain_order="left")
                 .drop(fname).rename({"_ref": fname}))
    return frame


def open_user_system(dsn: str, mapping: Mapping) -> UserSystem:
    """An adapter over `dsn`; nothing is read until `check()`/`load()`."""
    try:
        url = make_url(dsn)
    except ArgumentError:
        raise UserSystemUnreachable(
            f"the user DB DSN is not a database URL: {_describe(dsn)}",
            hint="use sqlite:///path.db or postgresql+psycopg://user@host:5432/db",
        ) from None
    backend = url.get_backend_name()
    if backend == "postgresql" and "+" not in url.drivername:
        url = url.set(drivername="postgresql+psycopg")
    connect_args: dict[str, Any] = {"connect_timeout": 5} if backend == "postgresql" else {}
    if backend == "sqlite" and url.database and url.database != ":memory:":
        from pathlib import Path

        if not Path(url.database).exists():
            raise UserSystemUnreachable(
                f"the user database file {url.database} does not exist"
            )
    return UserSystem(create_engine(url, connect_args=connect_args), mapping)
