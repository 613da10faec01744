"""The mapping file: which of the user's tables and columns hold which canonical entity.

Two versions (reference: docs/mapping-format.md). Version 1 says "column = one Stripe
path"; version 2 adds what real company databases need: value translation (`values`, many
local words to many Stripe words), derived expectations (`expect`, a SQL expression over the
Stripe object), conditions (`when` / `otherwise`), timestamps in any common text form
(`type: timestamp|date`, `timezone`), local-only rows (`null_key`), row filters on both
sides (`where`, `stripe_where`), values aggregated from related objects (`stripe_related`)
and roles for tables that mirror no one Stripe object (`applied_payments`, `entitlement`
with `granted_by` joins, `event_log`, `reference`).

Validation is strict: an unknown key or an impossible combination is a `MappingError`
naming the file, the entity and the field (never a Polars traceback). Expressions are
parsed at load time (core/expr.py); the columns they read are checked against the table
when the database is opened (`check_schema`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from core.expr import ExpressionError
from tools.recon.errors import MappingError
from tools.recon.mapping_expr import column_names, compile_sql

__all__ = ["EntitySpec", "FieldSpec", "FieldType", "GrantSpec", "Mapping", "RelatedSpec",
           "Role", "check_schema", "load_mapping", "parse_mapping"]

FieldType = Literal["string", "int", "bool", "timestamp", "date", "money", "ref", "flag"]
Role = Literal["mirror", "applied_payments", "entitlement", "event_log", "reference", "local"]
_UNSET: Any = object()

_V2_FIELD_KEYS = {"expect", "when", "otherwise", "timezone", "tolerance"}
_V2_ENTITY_KEYS = {"role", "primary_key", "where", "stripe_where", "null_key", "same_intent",
                   "stripe_related", "applies_to", "active", "granted_by"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Strict):
    column: str
    stripe: str | None = ""
    type: FieldType = "string"
    currency: str | None = None  # a column, or `<ref field>.<column>` of the referenced row
    unit: Literal["minor", "major"] | None = None
    entity: str | None = None
    values: dict[str, str | list[str]] | None = None
    expect: str | None = None
    when: str | None = None
    otherwise: Any = _UNSET
    timezone: str | None = None
    tolerance: int | None = Field(default=None, ge=0)

    @property
    def compared(self) -> bool:
        return bool(self.stripe) or self.expect is not None

    @property
    def has_otherwise(self) -> bool:
        return self.otherwise is not _UNSET

    @model_validator(mode="after")
    def _combinations(self) -> FieldSpec:
        if self.type == "money" and not self.currency:
            raise ValueError("a money field needs `currency` (the currency column)")
        if self.type != "money" and (self.currency or self.unit):
            raise ValueError("`currency` and `unit` belong to `type: money` only")
        if self.type == "ref" and not self.entity:
            raise ValueError("a ref field needs `entity` (the entity its column points at)")
        if self.type != "ref" and self.entity:
            raise ValueError("`entity` belongs to `type: ref` only")
        if self.timezone and self.type not in ("timestamp", "date"):
            raise ValueError("`timezone` belongs to `type: timestamp` or `type: date` only")
        if self.tolerance is not None and self.type not in ("timestamp", "int", "money"):
            raise ValueError("`tolerance` belongs to timestamp, int or money fields")
        if self.expect is not None and self.stripe:
            raise ValueError("give either `stripe` (a path) or `expect` (an expression), "
                             "not both")
        if self.when is not None and not self.compared:
            raise ValueError("`when` needs a compared field (`stripe` path or `expect`)")
        if self.has_otherwise and self.when is None:
            raise ValueError("`otherwise` needs `when` (the value expected when it is false)")
        if self.values is not None and self.type != "string":
            raise ValueError("`values` translates words: string fields only")
        for part in ("expect", "when"):
            source = getattr(self, part)
            if source is not None:
                try:
                    compile_sql(source, where=part)
                except ExpressionError as exc:
                    raise ValueError(str(exc)) from None
        return self


class RelatedSpec(_Strict):
    """A value aggregated over related Stripe objects (e.g. a PaymentIntent's refunds)."""

    object: str
    link: str  # the related object's field holding this object's id
    value: str  # an aggregate: MAX(created), COUNT(id), SUM(amount)
    where: str | None = None

    @model_validator(mode="after")
    def _parse(self) -> RelatedSpec:
        for part in ("value", "where"):
            if getattr(self, part) is not None:
                try:
                    compile_sql(getattr(self, part), where=part)
                except ExpressionError as exc:
                    raise ValueError(str(exc)) from None
        return self


class MatchSpec(_Strict):
    expect: str
    split: Literal[",", "json"] | None = None


class WithinSpec(_Strict):
    field: str
    stripe: str = "created"
    seconds: int = Field(gt=0)


class GrantSpec(_Strict):
    """One way a grant is paid for: Stripe objects matched on the entitlement's fields."""

    stripe_object: str
    where: str | None = None
    match: dict[str, MatchSpec]
    within: WithinSpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("match"), dict):
            data = {**data, "match": {k: {"expect": v} if isinstance(v, str) else v
                                      for k, v in data["match"].items()}}
        return data

    @model_validator(mode="after")
    def _parse(self) -> GrantSpec:
        if not self.match:
            raise ValueError("`match` needs at least one entitlement field")
        sources = [("where", self.where)] + [(f"match.{k}", m.expect)
                                             for k, m in self.match.items()]
        for part, source in sources:
            if source is not None:
                try:
                    compile_sql(source, where=part)
                except ExpressionError as exc:
                    raise ValueError(str(exc)) from None
        return self


class NullKeySpec(_Strict):
    ignore_when: str


class EntitySpec(_Strict):
    table: str
    stripe_object: str | None = None
    key: str | None = None
    account: str | None = None
    livemode: str | None = None
    role: Role | None = None
    primary_key: str | list[str] | None = None
    where: str | None = None
    stripe_where: str | None = None
    null_key: Literal["ignore", "match"] | NullKeySpec | None = None
    same_intent: list[str] | None = None
    stripe_related: dict[str, RelatedSpec] = Field(default_factory=dict)
    applies_to: str | None = None
    active: str | None = None
    granted_by: list[GrantSpec] | None = None
    fields: dict[str, FieldSpec] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        fields = {}
        for name, spec in (data.get("fields") or {}).items():
            spec = {"column": spec} if isinstance(spec, str) else dict(spec or {})
            if "expect" not in spec:
                spec.setdefault("stripe", name)
            fields[name] = spec
        return {**data, "fields": fields}

    @model_validator(mode="after")
    def _combinations(self) -> EntitySpec:
        role = self.kind
        mirror = role in ("mirror", "event_log")
        if mirror and not self.key:
            raise ValueError(f"role {role} needs `key` (the column holding the Stripe id)")
        if role == "mirror" and not self.stripe_object:
            raise ValueError("a mirror needs `stripe_object` (the Stripe object it mirrors)")
        if not mirror:
            for name in ("stripe_where", "null_key", "same_intent"):
                if getattr(self, name) is not None:
                    raise ValueError(f"`{name}` needs a table that mirrors Stripe objects "
                                     "(a `key` column and `stripe_object`)")
            if self.stripe_related:
                raise ValueError("`stripe_related` needs a mirrored `stripe_object`")
            for fname, spec in self.fields.items():
                if spec.expect is not None or spec.when is not None:
                    raise ValueError(f"field {fname!r}: `expect`/`when` read the Stripe "
                                     f"object; role {role} has none")
        if role == "applied_payments" and not self.applies_to:
            raise ValueError("role applied_payments needs `applies_to` (the ref field, or "
                             "the entity, its rows apply money to)")
        if role != "applied_payments" and self.applies_to:
            raise ValueError("`applies_to` belongs to role applied_payments")
        if role != "entitlement" and (self.active is not None or self.granted_by is not None):
            raise ValueError("`active` and `granted_by` belong to role entitlement")
        if self.granted_by is not None and "customer" not in self.fields:
            raise ValueError("`granted_by` matches on the grant's fields: map `customer`")
        for i, grant in enumerate(self.granted_by or []):
            for fname in grant.match:
                if fname not in self.fields:
                    raise ValueError(f"granted_by[{i}].match names field {fname!r}, which "
                                     f"is not in `fields` ({', '.join(self.fields)})")
            if grant.within and grant.within.field not in self.fields:
                raise ValueError(f"granted_by[{i}].within.field {grant.within.field!r} is "
                                 "not in `fields`")
        for part in ("where", "stripe_where", "active"):
            source = getattr(self, part)
            if source is not None:
                try:
                    compile_sql(source, where=part)
                except ExpressionError as exc:
                    raise ValueError(str(exc)) from None
        if isinstance(self.null_key, NullKeySpec):
            try:
                compile_sql(self.null_key.ignore_when, where="null_key.ignore_when")
            except ExpressionError as exc:
                raise ValueError(str(exc)) from None
        return self

    @property
    def kind(self) -> Role:
        """The declared role, or the one v1 implies (a key + object = mirror)."""
        if self.role:
            return self.role
        return "mirror" if self.stripe_object and self.key else "local"

    def compared_fields(self) -> dict[str, FieldSpec]:
        return {n: f for n, f in self.fields.items() if f.compared}

    def money_fields(self) -> dict[str, FieldSpec]:
        return {n: f for n, f in self.fields.items() if f.type == "money"}

    def pk_columns(self) -> list[str]:
        pk = self.primary_key
        return [] if pk is None else [pk] if isinstance(pk, str) else list(pk)


class Mapping(_Strict):
    version: Literal[1, 2]
    system: str = ""
    entities: dict[str, EntitySpec]

    @model_validator(mode="before")
    @classmethod
    def _version_keys(cls, data: Any) -> Any:
        """A v2 key in a v1 file is a mistake to name, not a silent no-op; a v2 mirror with
        money gets its currency compared (`currency`, every Stripe amount has one)."""
        if isinstance(data, dict) and data.get("version") == 2:
            return {**data, "entities": {n: _with_currency(e) for n, e in
                                         (data.get("entities") or {}).items()}}
        if not isinstance(data, dict) or data.get("version") != 1:
            return data
        for name, entity in (data.get("entities") or {}).items():
            if not isinstance(entity, dict):
                continue
            for key in _V2_ENTITY_KEYS & set(entity):
                raise ValueError(f"entities.{name}.{key}: `{key}` is a version 2 key; "
                                 "set `version: 2`")
            for fname, spec in (entity.get("fields") or {}).items():
                if isinstance(spec, dict):
                    for key in _V2_FIELD_KEYS & set(spec):
                        raise ValueError(f"entities.{name}.fields.{fname}.{key}: `{key}` "
                                         "is a version 2 key; set `version: 2`")
        return data

    @model_validator(mode="after")
    def _references(self) -> Mapping:
        for name, entity in self.entities.items():
            if self.version >= 2 and entity.stripe_object and not entity.key \
                    and entity.role is None:
                raise ValueError(f"entities.{name}.key: a table mirroring {entity.stripe_object!r} "
                                 "needs `key` (the column holding the Stripe id)")
            for fname, spec in entity.fields.items():
                if spec.type == "ref" and spec.entity not in self.entities:
                    raise ValueError(
                        f"entities.{name}.fields.{fname}: refers to entity {spec.entity!r}, "
                        f"which the mapping does not define ({', '.join(self.entities)})")
                if spec.type == "money" and spec.currency and "." in spec.currency:
                    via = spec.currency.split(".", 1)[0]
                    if via not in entity.fields or entity.fields[via].type != "ref":
                        raise ValueError(
                            f"entities.{name}.fields.{fname}.currency: {spec.currency!r} "
                            f"reads through {via!r}, which is not a ref field of {name!r}")
            if entity.applies_to:
                target = entity.applies_to
                ref = entity.fields.get(target)
                by_entity = [f for f, s in entity.fields.items()
                             if s.type == "ref" and s.entity == target]
                if not (ref is not None and ref.type == "ref") and not by_entity:
                    raise ValueError(
                        f"entities.{name}.applies_to: {target!r} is neither a ref field of "
                        f"{name!r} nor an entity one of its ref fields points at")
        return self

    def entity(self, name: str) -> EntitySpec | None:
        return self.entities.get(name)

    def by_role(self, role: Role) -> dict[str, EntitySpec]:
        return {n: e for n, e in self.entities.items() if e.kind == role}

    def event_log(self) -> tuple[str, EntitySpec] | None:
        """The webhook log: v2 `role: event_log`, v1 the entity named processed_event."""
        for name, entity in self.entities.items():
            if entity.role == "event_log" or (entity.role is None and name == "processed_event"):
                return name, entity
        return None

    def for_object(self, object_type: str) -> tuple[str, EntitySpec] | None:
        for name, entity in self.entities.items():
            if entity.stripe_object == object_type and entity.key:
                return name, entity
        return None


def _with_currency(entity: Any) -> Any:
    if not isinstance(entity, dict) or not entity.get("stripe_object") or not entity.get("key"):
        return entity
    fields = entity.get("fields")
    if not isinstance(fields, dict) or "currency" in fields:
        return entity
    columns = [spec.get("currency") for spec in fields.values()
               if isinstance(spec, dict) and spec.get("type") == "money"]
    mapped = {spec if isinstance(spec, str) else spec.get("column")
              for spec in fields.values() if isinstance(spec, str | dict)}
    column = next((c for c in columns if isinstance(c, str) and "." not in c), None)
    if column is None or column in mapped:
        return entity
    return {**entity, "fields": {**fields, "currency": {"column": column,
                                                        "stripe": "currency"}}}


def _describe(exc: ValidationError) -> str:
    problems = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in e["loc"] if p not in ("function-after", "function-before"))
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key (not part of the mapping format; see docs/mapping-format.md)"
        problems.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(problems)


def parse_mapping(raw: Any, *, source: str = "mapping") -> Mapping:
    """Validate an already-parsed mapping; errors name `source`, the entity and field."""
    if not isinstance(raw, dict):
        raise MappingError(f"{source} must hold a mapping with `version` and `entities`")
    try:
        return Mapping.model_validate(raw)
    except ValidationError as exc:
        raise MappingError(f"{source} is invalid: {_describe(exc)}") from None


def load_mapping(path: str | Path) -> Mapping:
    """Parse and validate a mapping file; every problem names the file and the place."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise MappingError(f"mapping file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise MappingError(f"mapping file {path} is not valid YAML: {exc}") from None
    return parse_mapping(raw, source=f"mapping file {path}")


def _columns_used(mapping: Mapping, entity: EntitySpec) -> list[tuple[str, str]]:
    """(what, column) pairs an entity reads, for error messages."""
    used = [(f"field {name!r}", spec.column) for name, spec in entity.fields.items()]
    used += [(f"currency of {n!r}", s.currency) for n, s in entity.fields.items()
             if s.type == "money" and s.currency and "." not in s.currency]
    for what in ("key", "account", "livemode"):
        column = getattr(entity, what)
        if column:
            used.append((what, column))
    used += [("primary_key", c) for c in entity.pk_columns()]
    return used


def _check_expressions(name: str, entity: EntitySpec, columns: set[str]) -> None:
    for part in ("where", "active"):
        source = getattr(entity, part)
        if source is None:
            continue
        missing = sorted(column_names(source) - columns)
        if missing:
            raise MappingError(
                f"mapping entity {name!r} ({part}) reads column {', '.join(missing)} of "
                f"{entity.table!r}, which does not exist (columns: {', '.join(sorted(columns))})")
    if isinstance(entity.null_key, NullKeySpec):
        missing = sorted(column_names(entity.null_key.ignore_when) - columns)
        if missing:
            raise MappingError(
                f"mapping entity {name!r} (null_key.ignore_when) reads column "
                f"{', '.join(missing)} of {entity.table!r}, which does not exist")


def check_schema(mapping: Mapping, engine: Engine) -> dict[str, list[str]]:
    """Every mapped table and column exists; returns each entity's row-address columns
    (declared `primary_key`, else the table's primary key; [] = none, rows are numbered).

    Raises MappingError naming the entity, table and column that is missing.
    """
    inspector = inspect(engine)
    tables = set(inspector.get_table_names())
    primary: dict[str, list[str]] = {}
    for name, entity in mapping.entities.items():
        if entity.table not in tables:
            raise MappingError(
                f"mapping entity {name!r} names table {entity.table!r}, which does not exist "
                f"in the user database (tables: {', '.join(sorted(tables)) or 'none'})"
            )
        columns = {c["name"] for c in inspector.get_columns(entity.table)}
        for what, column in _columns_used(mapping, entity):
            if column not in columns:
                raise MappingError(
                    f"mapping entity {name!r} ({what}) names column {entity.table}.{column}, "
                    f"which does not exist (columns: {', '.join(sorted(columns))})"
                )
        _check_expressions(name, entity, columns)
        for fname, spec in entity.fields.items():
            if spec.type == "money" and spec.currency and "." in spec.currency:
                via, column = spec.currency.split(".", 1)
                target = mapping.entities[entity.fields[via].entity or ""]
                target_cols = {c["name"] for c in inspector.get_columns(target.table)} \
                    if target.table in tables else set()
                if column not in target_cols:
                    raise MappingError(
                        f"mapping entity {name!r} (currency of {fname!r}) names column "
                        f"{target.table}.{column}, which does not exist")
        pk = entity.pk_columns() or (
            inspector.get_pk_constraint(entity.table).get("constrained_columns") or [])
        if len(pk) != 1 and mapping.version == 1:
            raise MappingError(
                f"table {entity.table!r} (entity {name!r}) needs a single-column primary key "
                f"for row references; it has {pk or 'none'}")
        primary[name] = list(pk)
    return primary
