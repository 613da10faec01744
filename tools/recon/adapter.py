"""User-system adapter: the user's SQL database (SQLite, PostgreSQL, ...) read through a
mapping file into canonical Polars frames, one per entity.

Each frame has ``local_key`` ("table:pk", the row's address for evidence and repairs),
``stripe_id`` (the key column, null when the entity has none), ``account`` and ``livemode``
when mapped, and one column per mapped field holding canonical values: unix seconds for
timestamps, integer minor units for money, the referenced row's Stripe id for refs.
"""

from __future__ import annotations

from collections.abc import Mapping as TMapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import polars as pl
from sqlalchemy import MetaData, Table, create_engine, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from core.money import UnknownCurrency, exponent
from tools.recon.errors import MappingError, UserSystemUnreachable
from tools.recon.mapping import EntitySpec, FieldSpec, Mapping, check_schema

__all__ = ["LocalFrames", "UserSystem", "currency_column", "dtype_for", "open_user_system"]

LocalFrames = dict[str, pl.DataFrame]

_DTYPES: dict[str, pl.DataType] = {
    "string": pl.String(), "ref": pl.String(), "int": pl.Int64(), "money": pl.Int64(),
    "timestamp": pl.Int64(), "bool": pl.Boolean(), "flag": pl.Boolean(),
}


def dtype_for(spec: FieldSpec) -> pl.DataType:
    return _DTYPES[spec.type]


def _describe(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable DSN)"


def _epoch(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return int((value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp())
    return int(value)


def _major_to_minor(value: Any, currency: Any) -> int | None:
    if value is None or currency is None:
        return None
    try:
        return int(Decimal(str(value)).scaleb(exponent(str(currency))))
    except UnknownCurrency:
        return None  # reported by the classifier as UNCLASSIFIED (unknown currency)


def _canonical(spec: FieldSpec, value: Any) -> Any:
    if spec.type == "flag":
        return value is not None
    if value is None:
        return False if spec.type == "bool" else None
    if spec.type == "bool":
        return bool(value)
    if spec.type in ("int", "money"):
        return int(value)
    if spec.type == "timestamp":
        return _epoch(value)
    return str(value)


class UserSystem:
    """A connection to the user's database plus its mapping; `load()` reads every entity."""

    def __init__(self, engine: Engine, mapping: Mapping) -> None:
        self.engine = engine
        self.mapping = mapping
        self._primary: dict[str, str] | None = None

    def check(self) -> dict[str, str]:
        """Connects and validates the mapping against the schema (MappingError names the
        missing table/column; UserSystemUnreachable when the server does not answer)."""
        if self._primary is None:
            try:
                with self.engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
            except (OperationalError, SQLAlchemyError) as exc:
                reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
                raise UserSystemUnreachable(
                    f"cannot reach the user database {_describe(str(self.engine.url))}: {reason}"
                ) from None
            self._primary = check_schema(self.mapping, self.engine)
        return self._primary

    def load(self, entities: list[str] | None = None) -> LocalFrames:
        primary = self.check()
        names = entities or list(self.mapping.entities)
        unknown = [n for n in names if n not in self.mapping.entities]
        if unknown:
            raise MappingError(f"the mapping defines no entity {', '.join(map(repr, unknown))}")
        # refs need their target entity loaded to resolve local pks into Stripe ids
        needed = set(names)
        for name in names:
            needed |= {f.entity for f in self.mapping.entities[name].fields.values()
                       if f.type == "ref" and f.entity}
        raw = {n: self._read(n, self.mapping.entities[n], primary[n]) for n in needed}
        frames = {n: _resolve_refs(raw[n], self.mapping.entities[n], raw, self.mapping)
                  for n in names}
        return frames

    def _read(self, name: str, entity: EntitySpec, pk: str) -> pl.DataFrame:
        meta = MetaData()
        try:
            with self.engine.connect() as conn:
                table = Table(entity.table, meta, autoload_with=conn)
                cols: dict[str, str] = {"_pk": pk}
                for what in ("key", "account", "livemode"):
                    if getattr(entity, what):
                        cols[{"key": "stripe_id"}.get(what, what)] = getattr(entity, what)
                for fname, spec in entity.fields.items():
                    cols[fname] = spec.column
                currency_cols = {s.currency for s in entity.fields.values()
                                 if s.type == "money" and s.currency}
                extra = sorted(currency_cols - set(cols.values()))
                columns = list(dict.fromkeys([*cols.values(), *extra]))
                rows = conn.execute(select(*(table.c[c] for c in columns))).all()
        except OperationalError as exc:
            reason = str(exc.orig or exc).strip().splitlines()[0]
            raise UserSystemUnreachable(
                f"reading {entity.table!r} from the user database failed: {reason}"
            ) from None
        position = {c: i for i, c in enumerate(columns)}
        data: dict[str, list[Any]] = {}
        schema: dict[str, pl.DataType] = {}
        for out, column in cols.items():
            idx = position[column]
            spec = entity.fields.get(out)
            if out == "_pk" or out == "stripe_id" or out == "account":
                data[out] = [None if r[idx] is None else str(r[idx]) for r in rows]
                schema[out] = pl.String()
            elif out == "livemode":
                data[out] = [None if r[idx] is None else bool(r[idx]) for r in rows]
                schema[out] = pl.Boolean()
            elif spec is not None and spec.type == "money" and spec.unit == "major":
                cur = position[spec.currency or "currency"]
                data[out] = [_major_to_minor(r[idx], r[cur]) for r in rows]
                schema[out] = pl.Int64()
            elif spec is not None and spec.type == "ref":
                data[out] = [None if r[idx] is None else str(r[idx]) for r in rows]
                schema[out] = pl.String()
            else:
                assert spec is not None
                data[out] = [_canonical(spec, r[idx]) for r in rows]
                schema[out] = dtype_for(spec)
        for column in extra:
            data[currency_column(entity, column)] = [
                None if r[position[column]] is None else str(r[position[column]]) for r in rows]
            schema[currency_column(entity, column)] = pl.String()
        frame = pl.DataFrame(data, schema=schema)
        frame = frame.with_columns(local_key=pl.lit(f"{entity.table}:") + pl.col("_pk"))
        lower = [currency_column(entity, s.currency) for s in entity.fields.values()
                 if s.type == "money" and s.currency]
        return frame.with_columns(pl.col(c).str.to_lowercase() for c in dict.fromkeys(lower))


def currency_column(entity: EntitySpec, column: str | None) -> str:
    """The frame column holding the currency stored in table column `column`."""
    for fname, spec in entity.fields.items():
        if spec.column == column and spec.type == "string":
            return fname
    return f"_cur_{column}"


def _resolve_refs(
    frame: pl.DataFrame, entity: EntitySpec, raw: TMapping[str, pl.DataFrame], mapping: Mapping
) -> pl.DataFrame:
    for fname, spec in entity.fields.items():
        if spec.type != "ref" or not spec.entity:
            continue
        target = raw[spec.entity]
        if "stripe_id" not in target.columns:
            continue  # a ref to a local-only entity keeps the local pk
        lookup = target.select(pl.col("_pk").alias(fname), pl.col("stripe_id").alias("_ref"))
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
