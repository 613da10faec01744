"""Invariants the user declares for their own app, in a file, checked on every replay
(clean and under each fault) like the built-in ones.

Each invariant says which value a row of the app's state must hold for each Stripe object
of a kind, once events settle: the expected value is a SQL expression (`core/expr.py`,
docs/decisions/0001-expression-language.md) over the object's latest snapshot in the
corpus. Nothing here knows any app::

    invariants:
      - id: refund_in_minor_units
        title: a refunded charge is recorded in minor units
        object: charge                 # Stripe object type (`object` field)
        where: amount_refunded > 0     # optional: which objects it applies to
        entity: refund_note            # the state entity (table, or JSON document path)
        key: stripe_charge_id          # the row field holding the object's id
                                       #   (omitted: the row identity starts with it)
        field: amount                  # the row field to check
        expect: amount_refunded        # its value, computed from the object
        missing: violation             # a matching object with no row: violation | ok

Values compare as numbers when both are numeric (3500 == 3500.0), else as text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.expr import Expression, compile_expression, frame_of
from tools.shadow.compare import object_of
from tools.shadow.errors import CorpusError
from tools.shadow.invariants import Violation
from tools.shadow.replay import Capture
from tools.shadow.state import StateView
from tools.shadow.truth import Truth

__all__ = ["Compiled", "DeclaredInvariant", "InvariantFile", "check_declared",
           "declared_violations", "load_invariants"]


class InvariantError(CorpusError):
    default_hint = ("an invariants file is YAML: `invariants:` then a list of {id, object, "
                    "entity, field, expect[, key, where, title, missing]}")


class DeclaredInvariant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str | None = None
    object: str = Field(min_length=1)
    where: str | None = None
    entity: str = Field(min_length=1)
    key: str | None = None
    field: str = Field(min_length=1)
    expect: str = Field(min_length=1)
    missing: Literal["violation", "ok"] = "violation"


class InvariantFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    invariants: list[DeclaredInvariant]


class Compiled:
    def __init__(self, spec: DeclaredInvariant, source: str) -> None:
        self.spec = spec
        where = f"{source}: invariants.{spec.id}"
        self.expect = compile_expression(spec.expect, where=f"{where}.expect")
        self.where: Expression | None = compile_expression(
            spec.where, where=f"{where}.where") if spec.where else None


def load_invariants(path: str | Path) -> list[Compiled]:
    """Parse and compile a file; every mistake names the file and the invariant."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise InvariantError(f"invariants file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise InvariantError(f"{path}: not valid YAML ({exc})") from None
    try:
        parsed = InvariantFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        at = ".".join(str(p) for p in first["loc"])
        raise InvariantError(f"{path}: {at}: {first['msg']}") from None
    ids = [i.id for i in parsed.invariants]
    if len(ids) != len(set(ids)):
        raise InvariantError(f"{path}: invariant ids must be unique ({', '.join(ids)})")
    return [Compiled(spec, str(path)) for spec in parsed.invariants]


def _values(expr: Expression, objects: list[dict[str, Any]]) -> list[Any]:
    # Only the fields the expression reads: whole Stripe objects do not make one frame.
    return expr.evaluate(frame_of([{n: o.get(n) for n in expr.names} for o in objects],
                                  expr.names)).to_list()


def _same(a: Any, b: Any) -> bool:
    if a == b:
        return True
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return str(a) == str(b) if a is not None and b is not None else False


def _rows(state: StateView, spec: DeclaredInvariant) -> dict[str, list[dict[str, Any]]]:
    """Rows of the entity, grouped by the Stripe id they are about."""
    rows: dict[str, dict[str, Any]] = {}
    for (entity, key, name), value in state.items():
        if entity == spec.entity:
            rows.setdefault(key, {})[name] = value
    out: dict[str, list[dict[str, Any]]] = {}
    for key, row in rows.items():
        about = str(row.get(spec.key)) if spec.key else object_of(key)
        out.setdefault(about, []).append(row)
    return out


def check_declared(invariants: list[Compiled], truth: Truth,
                   state: StateView) -> list[tuple[str, str, str]]:
    """(invariant id, Stripe object id, what is wrong) for every broken expectation."""
    out: list[tuple[str, str, str]] = []
    for inv in invariants:
        spec = inv.spec
        objects = truth.of(spec.object)
        if inv.where is not None and objects:
            keep = _values(inv.where, objects)
            objects = [o for o, k in zip(objects, keep, strict=True) if k]
        if not objects:
            continue
        rows = _rows(state, spec)
        for obj, want in zip(objects, _values(inv.expect, objects), strict=True):
            mine = rows.get(obj["id"], [])
            if not mine:
                if spec.missing == "violation":
                    out.append((spec.id, obj["id"], f"{obj['id']}: no {spec.entity} row "
                                f"(expected {spec.field} = {want!r})"))
                continue
            for row in mine:
                if not _same(row.get(spec.field), want):
                    out.append((spec.id, obj["id"], f"{spec.entity} of {obj['id']}: "
                                f"{spec.field} is {row.get(spec.field)!r}, expected {want!r}"))
    return out


def declared_violations(invariants: list[Compiled], truth: Truth,
                        capture: Capture) -> list[Violation]:
    """`check_declared` on one replay, each break attributed to the last event the handler
    handled about the object."""
    if not invariants or not capture.state:
        return []
    last: dict[str, dict[str, Any]] = {}
    for index in capture.handled_order():
        event = truth.corpus.events[index]
        oid = (event["data"]["object"] or {}).get("id")
        if oid:
            last[oid] = event
    out = []
    for inv_id, oid, detail in check_declared(invariants, truth, capture.state):
        event = last.get(oid)
        out.append(Violation(invariant=inv_id, source=oid, detail=detail,
                             event_type=event["type"] if event else None,
                             event_id=event["id"] if event else None))
    return out
