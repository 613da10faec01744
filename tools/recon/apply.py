"""Applying an approved repair plan: only approved items, each once, each in a transaction,
each with an audit entry.

A plan is the run's proposed repairs as a JSON file an engineer edits (``approved: true``).
``upsert_local`` items write the Stripe values into the user's row (UPDATE of the differing
columns, or INSERT of a missing row) inside one user-DB transaction; the app DB then records
the item (unique key: a replay skips it) and its audit entry in one transaction. Items that
need judgment are only acknowledged; re-delivery is left to the shadow replayer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import MetaData, Table, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from core import audit
from core.ids import idempotency_key
from core.money import exponent
from core.storage import Database
from tools.recon import store
from tools.recon.adapter import UserSystem
from tools.recon.models import Discrepancy, ProposedRepair, ReconRun

__all__ = ["ItemResult", "PlanItem", "RepairPlan", "apply_plan", "make_plan"]


class PlanItem(BaseModel):
    discrepancy_id: str
    repair: ProposedRepair
    approved: bool = False


class RepairPlan(BaseModel):
    run_id: str
    engagement: str | None = None
    items: list[PlanItem] = Field(default_factory=list)


class ItemResult(BaseModel):
    discrepancy_id: str
    status: Literal["applied", "acknowledged", "skipped", "failed", "already_applied",
                    "not_approved"]
    detail: str = ""


def make_plan(run: ReconRun) -> RepairPlan:
    return RepairPlan(run_id=run.id, engagement=run.engagement, items=[
        PlanItem(discrepancy_id=d.id, repair=d.proposed_repair)
        for d in run.discrepancies if d.proposed_repair is not None])


def _column_value(spec_type: str, unit: str, value: Any, currency: str | None) -> Any:
    if spec_type == "flag":  # a NOT NULL marker column (deleted_at): stamp it or clear it
        return datetime.now(UTC) if value else None
    if value is None:
        return None
    if spec_type == "timestamp":
        return datetime.fromtimestamp(int(value), UTC)
    if spec_type == "money" and unit == "major" and currency:
        return int(value) / 10 ** exponent(currency)
    return value


def _upsert(user: UserSystem, d: Discrepancy) -> str:
    entity = user.mapping.entities[d.entity]
    pk = user.check()[d.entity]
    values: dict[str, Any] = {}
    with user.engine.begin() as conn:
        table = Table(entity.table, MetaData(), autoload_with=conn)
        for name, value in d.stripe_values.items():
            spec = entity.fields.get(name)
            if spec is None or not spec.compared:
                continue
            if spec.type == "ref":
                target = user.mapping.entities[spec.entity or ""]
                ref_table = Table(target.table, MetaData(), autoload_with=conn)
                ref_pk = user.check()[spec.entity or ""]
                found = conn.execute(select(ref_table.c[ref_pk]).where(
                    ref_table.c[target.key or ""] == value)).first() if value else None
                values[spec.column] = found[0] if found else None
                continue
            currency = d.stripe_values.get("currency") or d.currency
            values[spec.column] = _column_value(spec.type, spec.unit, value,
                                                str(currency) if currency else None)
        if d.local_key:
            key = d.local_key.split(":", 1)[1]
            count = conn.execute(update(table).where(table.c[pk] == key).values(values)).rowcount
            if count != 1:
                raise LookupError(f"{d.local_key} not found")
            return f"updated {d.local_key}: {', '.join(sorted(values))}"
        if not entity.key:
            raise LookupError(f"entity {d.entity} has no Stripe key column")
        values[entity.key] = d.stripe_id
        exists = conn.execute(select(table.c[pk]).where(
            table.c[entity.key] == d.stripe_id)).first()
        if exists:  # applied by someone else meanwhile: converge instead of duplicating
            conn.execute(update(table).where(table.c[pk] == exists[0]).values(values))
            return f"updated {entity.table}:{exists[0]}"
        conn.execute(insert(table).values(values))
        return f"inserted {entity.table} row for {d.stripe_id}"


def apply_plan(plan: RepairPlan, run: ReconRun, *, user: UserSystem, db: Database,
               actor: str) -> list[ItemResult]:
    by_id = {d.id: d for d in run.discrepancies}
    results: list[ItemResult] = []
    with db.session() as session:
        done = store.applied_items(session, run.id)
    for item in plan.items:
        key = idempotency_key("recon", run.id, item.discrepancy_id, item.repair.kind)
        d = by_id.get(item.discrepancy_id)
        if not item.approved:
            results.append(ItemResult(discrepancy_id=item.discrepancy_id, status="not_approved"))
            continue
        if key in done:
            results.append(ItemResult(discrepancy_id=item.discrepancy_id,
                                      status="already_applied"))
            continue
        if d is None:
            results.append(ItemResult(discrepancy_id=item.discrepancy_id, status="failed",
                                      detail="no such discrepancy in the run"))
            continue
        status, detail = "acknowledged", item.repair.summary
        if item.repair.kind == "upsert_local":
            try:
                status, detail = "applied", _upsert(user, d)
            except (SQLAlchemyError, LookupError, ValueError) as exc:
                status, detail = "failed", str(exc).splitlines()[0]
        elif item.repair.kind == "redeliver_event":
            status, detail = "skipped", "re-delivery is done with the shadow replayer"
        with db.session() as session:
            if status != "failed":
                store.record_repair(session, item_key=key, run_id=run.id,
                                    discrepancy_id=d.id, kind=item.repair.kind, status=status,
                                    actor=actor, details={"detail": detail})
            audit.record(session, actor=actor, action=f"recon.repair.{status}",
                         target=d.stripe_id or d.local_key or d.id,
                         engagement=run.engagement,
                         details={"run": run.id, "discrepancy": d.id,
                                  "kind": item.repair.kind, "tier": item.repair.tier,
                                  "detail": detail})
        results.append(ItemResult(discrepancy_id=d.id, status=status,  # type: ignore[arg-type]
                                  detail=detail))
    return results
