"""The mapping file: which of the user's tables and columns hold which canonical entity.

Format (version 1, the sandbox's `sandbox/usersys/mapping.yaml` is the worked example)::

    entities:
      payment:                       # canonical entity name
        table: payments
        stripe_object: payment_intent  # the Stripe `object` the rows mirror; null = local only
        key: stripe_payment_intent_id  # column holding the Stripe id; null = no counterpart
        account: connect_account_id    # Connect account column (NULL = platform)
        livemode: livemode
        fields:
          status: status               # bare column: text, Stripe path = the field's name
          amount: {column: amount, type: money, currency: currency, unit: minor}

Field types: string (default), int, bool, timestamp (DateTime column <-> unix seconds), money
(minor or major units with a currency column), ref (local primary key of another entity's
row; canonical value = that row's Stripe id) and flag (true when the column is NOT NULL).
``stripe: null`` marks a local-only field that is never compared.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from tools.recon.errors import MappingError

__all__ = ["EntitySpec", "FieldSpec", "FieldType", "Mapping", "load_mapping", "check_schema"]

FieldType = Literal["string", "int", "bool", "timestamp", "money", "ref", "flag"]


class FieldSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str
    stripe: str | None = ""
    type: FieldType = "string"
    currency: str | None = None
    unit: Literal["minor", "major"] = "minor"
    entity: str | None = None
    values: dict[str, str] | None = None

    @property
    def compared(self) -> bool:
        return bool(self.stripe)


class EntitySpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    table: str
    stripe_object: str | None = None
    key: str | None = None
    account: str | None = None
    livemode: str | None = None
    fields: dict[str, FieldSpec]

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        fields = {}
        for name, spec in (data.get("fields") or {}).items():
            spec = {"column": spec} if isinstance(spec, str) else dict(spec or {})
            spec.setdefault("stripe", name)
            fields[name] = spec
        return {**data, "fields": fields}

    def money_fields(self) -> dict[str, FieldSpec]:
        return {n: f for n, f in self.fields.items() if f.type == "money"}


class Mapping(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    system: str = ""
    entities: dict[str, EntitySpec]

    @model_validator(mode="after")
    def _refs_exist(self) -> Mapping:
        for name, entity in self.entities.items():
            for fname, spec in entity.fields.items():
                if spec.type == "ref" and spec.entity not in self.entities:
                    raise ValueError(
                        f"entity {name!r} field {fname!r} refers to entity {spec.entity!r}, "
                        "which the mapping does not define"
                    )
                if spec.type == "money" and spec.currency is None:
                    raise ValueError(f"entity {name!r} money field {fname!r} needs `currency`")
        return self

    def entity(self, name: str) -> EntitySpec | None:
        return self.entities.get(name)

    def for_object(self, object_type: str) -> tuple[str, EntitySpec] | None:
        for name, entity in self.entities.items():
            if entity.stripe_object == object_type and entity.key:
                return name, entity
        return None


def load_mapping(path: str | Path) -> Mapping:
    """Parse and validate a mapping file; every problem names the file and the place."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise MappingError(f"mapping file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise MappingError(f"mapping file {path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise MappingError(f"mapping file {path} must hold a mapping with `entities`")
    try:
        return Mapping.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise MappingError(f"mapping file {path} is invalid: {problems}") from None


def _columns_used(entity: EntitySpec) -> list[tuple[str, str]]:
    """(what, column) pairs an entity reads, for error messages."""
    used = [(f"field {name!r}", spec.column) for name, spec in entity.fields.items()]
    used += [(f"currency of {n!r}", s.currency) for n, s in entity.fields.items()
             if s.type == "money" and s.currency and s.currency not in
             {f.column for f in entity.fields.values()}]
    for what in ("key", "account", "livemode"):
        column = getattr(entity, what)
        if column:
            used.append((what, column))
    return used


def check_schema(mapping: Mapping, engine: Engine) -> dict[str, str]:
    """Every mapped table and column exists; returns each entity's primary-key column.

    Raises MappingError naming the entity, table and column that is missing.
    """
    inspector = inspect(engine)
    tables = set(inspector.get_table_names())
    primary: dict[str, str] = {}
    for name, entity in mapping.entities.items():
        if entity.table not in tables:
            raise MappingError(
                f"mapping entity {name!r} names table {entity.table!r}, which does not exist "
                f"in the user database (tables: {', '.join(sorted(tables)) or 'none'})"
            )
        columns = {c["name"] for c in inspector.get_columns(entity.table)}
        for what, column in _columns_used(entity):
            if column not in columns:
                raise MappingError(
                    f"mapping entity {name!r} ({what}) names column {entity.table}.{column}, "
                    f"which does not exist (columns: {', '.join(sorted(columns))})"
                )
        pk = inspector.get_pk_constraint(entity.table).get("constrained_columns") or []
        if len(pk) != 1:
            raise MappingError(
                f"table {entity.table!r} (entity {name!r}) needs a single-column primary key "
                f"for row references; it has {pk or 'none'}"
            )
        primary[name] = pk[0]
    return primary
