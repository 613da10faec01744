"""Does the company DB agree with Stripe? Field-by-field comparison through mapping.yaml.

The sandbox's own self-check (tests, world generator acceptance): for each Stripe object whose
type an entity mirrors, find the row by its key column and compare every mapped field with a
Stripe path, after converting both sides to canonical values. The reconciliation engine reads
the same mapping with its own code; this module only proves the mapping and handler agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, model_validator
from sqlalchemy import MetaData, Table, select
from sqlalchemy.orm import Session

from core.money import exponent

MAPPING_PATH = Path(__file__).with_name("mapping.yaml")
FieldType = Literal["string", "int", "bool", "timestamp", "money", "ref", "flag"]
Resolver = Callable[[str], dict[str, Any] | None]
AccountOf = Callable[[str], str | None]  # Stripe id -> connected account (None = platform)
_MISSING = object()


class FieldSpec(BaseModel):
    column: str
    stripe: str | None = ""  # "" until the entity fills in the canonical name
    type: FieldType = "string"
    currency: str | None = None
    unit: Literal["minor", "major"] = "minor"
    entity: str | None = None
    values: dict[str, str] | None = None


class EntitySpec(BaseModel):
    table: str
    stripe_object: str | None = None
    key: str | None = None
    account: str | None = None
    livemode: str | None = None
    fields: dict[str, FieldSpec]

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        fields = {}
        for name, spec in (data.get("fields") or {}).items():
            spec = {"column": spec} if isinstance(spec, str) else dict(spec)
            spec.setdefault("stripe", name)
            fields[name] = spec
        return {**data, "fields": fields}


class Mapping(BaseModel):
    version: int
    system: str = ""
    entities: dict[str, EntitySpec]

    def for_object(self, object_type: str) -> tuple[str, EntitySpec] | None:
        for name, entity in self.entities.items():
            if entity.stripe_object == object_type and entity.key:
                return name, entity
        return None


class FieldDiff(BaseModel):
    entity: str
    stripe_id: str
    field: str
    kind: Literal["mismatch", "missing_local"]
    local: Any = None
    stripe: Any = None


@lru_cache(maxsize=4)
def load_mapping(path: Path = MAPPING_PATH) -> Mapping:
    return Mapping.model_validate(yaml.safe_load(path.read_text()))


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def stripe_value(obj: dict[str, Any], path: str, resolve: Resolver | None = None) -> Any:
    """Follow `path` through dicts, ``[n]`` list items and (via `resolve`) expandable ids."""
    current: Any = obj
    for name, index in _STEP.findall(path):
        if isinstance(current, str) and resolve is not None:
            current = resolve(current)
        if index:
            current = current[int(index)] if isinstance(current, list) and len(current) > int(
                index) else None
        elif isinstance(current, dict):
            current = current.get(name)
        else:
            return None
        if current is None:
            return None
    return current


def _canonical(kind: FieldType, value: Any) -> Any:
    if kind == "flag":
        return bool(value)
    if value is None:
        return False if kind == "bool" else None
    if kind == "bool":
        return bool(value)
    if kind in ("int", "money"):
        return int(value)
    if kind == "timestamp":
        if isinstance(value, datetime):
            value = value if value.tzinfo else value.replace(tzinfo=UTC)
            return int(value.timestamp())
        return int(value)
    if isinstance(value, dict):  # an expanded object where an id was expected
        return value.get("id")
    return value


class _Rows:
    """Reads mapped tables by reflection, so any DB with the mapped columns works."""

    def __init__(self, session: Session, mapping: Mapping) -> None:
        self.session = session
        self.mapping = mapping
        self.meta = MetaData()
        self.tables: dict[str, Table] = {}

    def table(self, name: str) -> Table:
        if name not in self.tables:
            self.tables[name] = Table(name, self.meta, autoload_with=self.session.get_bind())
        return self.tables[name]

    def by_column(self, entity: EntitySpec, column: str, value: Any) -> dict[str, Any] | None:
        table = self.table(entity.table)
        row = self.session.execute(select(table).where(table.c[column] == value)).first()
        return dict(row._mapping) if row is not None else None

    def local(self, spec: FieldSpec, row: dict[str, Any]) -> Any:
        value = row.get(spec.column)
        if spec.type == "ref":
            target = self.mapping.entities[spec.entity or ""]
            ref = self.by_column(target, "id", value) if value is not None else None
            return ref.get(target.key or "") if ref else None
        if spec.type == "money" and spec.unit == "major" and value is not None:
            currency = row.get(spec.currency or "currency") or ""
            return int(Decimal(str(value)).scaleb(exponent(currency)))
        return _canonical(spec.type, value)


def local_view(session: Session, *, mapping: Mapping | None = None) -> dict[
        tuple[str, str], dict[str, Any]]:
    """Every mirrored row as (entity, Stripe id) -> the canonical values of its compared
    fields (those with a Stripe path) and its account: what `compare_with_stripe` reads."""
    mapping = mapping or load_mapping()
    rows = _Rows(session, mapping)
    view: dict[tuple[str, str], dict[str, Any]] = {}
    for name, entity in mapping.entities.items():
        if not entity.key or not entity.stripe_object:
            continue
        for record in session.execute(select(rows.table(entity.table))).all():
            row = dict(record._mapping)
            values = {field: rows.local(spec, row) for field, spec in entity.fields.items()
                      if spec.stripe}
            if entity.account:
                values["account"] = row.get(entity.account)
            view[(name, row[entity.key])] = values
    return view


def compare_with_stripe(
    session: Session,
    objects: Iterable[dict[str, Any]],
    *,
    mapping: Mapping | None = None,
    resolve: Resolver | None = None,
    account_of: AccountOf | None = None,
) -> list[FieldDiff]:
    """Every difference between the company DB and these Stripe objects (final states).

    With `account_of`, an entity's ``account`` column is compared too (the Connect account
    the object lives in; NULL = platform) as the field ``account``.
    """
    mapping = mapping or load_mapping()
    rows = _Rows(session, mapping)
    diffs: list[FieldDiff] = []
    for obj in objects:
        found = mapping.for_object(obj.get("object", ""))
        if found is None:
            continue
        name, entity = found
        row = rows.by_column(entity, entity.key or "", obj["id"])
        if row is None:
            diffs.append(FieldDiff(entity=name, stripe_id=obj["id"], field=entity.key or "",
                                   kind="missing_local"))
            continue
        for field, spec in entity.fields.items():
            if not spec.stripe or (obj.get("deleted") and spec.type != "flag"):
                continue
            remote = stripe_value(obj, spec.stripe, resolve)
            remote = _canonical("int" if spec.type == "money" else
                                "string" if spec.type == "ref" else spec.type, remote)
            local = rows.local(spec, row)
            if local != remote:
                diffs.append(FieldDiff(entity=name, stripe_id=obj["id"], field=field,
                                       kind="mismatch", local=local, stripe=remote))
        if account_of is not None and entity.account:
            remote_account, local_account = account_of(obj["id"]), row.get(entity.account)
            if (local_account or None) != remote_account:
                diffs.append(FieldDiff(entity=name, stripe_id=obj["id"], field="account",
                                       kind="mismatch", local=local_account,
                                       stripe=remote_account))
    return diffs


__all__ = ["FieldDiff", "Mapping", "compare_with_stripe", "load_mapping", "local_view",
           "stripe_value"]
