"""plan / approve / apply for every blueprint kind.

`plan` diffs the blueprint against the account and the engagement config. `approve` is an
engineer binding their name to one plan digest. `apply` runs only an approved plan: fresh,
the account must still produce that digest (otherwise something drifted since review);
resumed, the approved items not yet recorded run as approved. Every item is one or more
writes with deterministic idempotency keys, then one transaction that records the item and
its audit entry, so a crash between the two repeats a write Stripe recognises as a replay.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from core import audit
from core.errors import FdeError
from core.ids import idempotency_key, new_id
from tools.blueprints import state
from tools.blueprints.context import BlueprintContext
from tools.blueprints.errors import ApprovalRequired, BlueprintInvalid
from tools.blueprints.kinds.catalog import plan_catalog
from tools.blueprints.kinds.custom import plan_custom
from tools.blueprints.kinds.flows import plan_checkout, plan_dunning, plan_invoicing
from tools.blueprints.kinds.metering import plan_metering
from tools.blueprints.loader import LoadedBlueprint
from tools.blueprints.plan import Plan, PlanItem
from tools.blueprints.spec_catalog import CatalogBlueprint
from tools.blueprints.spec_custom import CustomLogicBlueprint
from tools.blueprints.spec_flows import CheckoutBlueprint, DunningBlueprint, InvoicingBlueprint
from tools.blueprints.spec_usage import MeteringBlueprint

__all__ = ["ApplyReport", "Approval", "apply_plan", "approve_plan", "make_plan"]



class Approval(BaseModel):
    token: str
    digest: str
    approver: str
    changes: int


class ApplyReport(BaseModel):
    engagement: str
    blueprint: str
    approval: str | None
    applied: list[str] = Field(default_factory=list)
    already_done: list[str] = Field(default_factory=list)
    results: dict[str, list[str]] = Field(default_factory=dict, description="key -> object ids")


def _items(loaded: LoadedBlueprint, ctx: BlueprintContext, session: Session) -> list[PlanItem]:
    spec = loaded.spec
    if isinstance(spec, CatalogBlueprint):
        return plan_catalog(spec, ctx)
    if isinstance(spec, MeteringBlueprint):
        return plan_metering(spec, ctx, session)
    if isinstance(spec, CheckoutBlueprint):
        return plan_checkout(spec, ctx, session)
    if isinstance(spec, DunningBlueprint):
        return plan_dunning(spec, ctx, session)
    if isinstance(spec, InvoicingBlueprint):
        return plan_invoicing(spec, ctx, session)
    if isinstance(spec, CustomLogicBlueprint):
        return plan_custom(spec, ctx)
    raise BlueprintInvalid(f"no planner for blueprint kind {spec.kind!r}")


def make_plan(loaded: LoadedBlueprint, ctx: BlueprintContext) -> Plan:
    with ctx.db.session() as session:
        items = _items(loaded, ctx, session)
    return Plan(engagement=ctx.engagement, blueprint=loaded.spec.name, kind=loaded.spec.kind,
                items=items)


def approve_plan(ctx: BlueprintContext, plan: Plan, *, approver: str, digest: str) -> Approval:
    """Record an engineer's approval of exactly the plan they reviewed (its digest)."""
    if not approver.strip():
        raise ApprovalRequired("an approval needs the approving engineer's name")
    if digest != plan.digest:
        raise ApprovalRequired(
            f"the plan now has digest {plan.digest}, not the reviewed {digest}: the account or "
            "the blueprint changed since it was reviewed", hint="run plan again and review it")
    token = new_id("bpa")
    with ctx.db.session() as session:
        state.save_approval(session, token=token, engagement=ctx.engagement,
                            blueprint=plan.blueprint, digest=plan.digest, approver=approver,
                            plan=plan.model_dump(mode="json"))
        audit.record(session, actor=approver, action="blueprint.approve",
                     target=f"blueprint:{plan.blueprint}", engagement=ctx.engagement,
                     details={"digest": plan.digest, "token": token,
                              "changes": len(plan.changes)})
    return Approval(token=token, digest=plan.digest, approver=approver, changes=len(plan.changes))


def _approved(ctx: BlueprintContext, loaded: LoadedBlueprint,
              token: str | None) -> tuple[dict[str, Any], Plan, dict[str, Any]] | None:
    if token is None:
        return None
    with ctx.db.session() as session:
        row = state.load_approval(session, token)
        done = state.done_items(session, token) if row else {}
    if row is None or row["engagement"] != ctx.engagement \
            or row["blueprint"] != loaded.spec.name:
        raise ApprovalRequired(f"approval {token!r} is not an approval of blueprint "
                               f"{loaded.spec.name!r} for engagement {ctx.engagement!r}")
    return row, Plan.model_validate(row["plan"]), done


def apply_plan(loaded: LoadedBlueprint, ctx: BlueprintContext, *,
               approval: str | None) -> ApplyReport:
    found = _approved(ctx, loaded, approval)
    report = ApplyReport(engagement=ctx.engagement, blueprint=loaded.spec.name,
                         approval=approval)
    if found is None:
        fresh = make_plan(loaded, ctx)
        if not fresh.changes:
            return report  # nothing would be written: nothing to approve
        raise ApprovalRequired(
            f"applying blueprint {loaded.spec.name!r} changes {len(fresh.changes)} item(s) on "
            f"engagement {ctx.engagement!r} and has not been approved (plan digest "
            f"{fresh.digest})")
    row, plan, done = found
    if not done:
        fresh = make_plan(loaded, ctx)
        if fresh.digest != row["digest"]:
            raise ApprovalRequired(
                f"the account no longer matches the approved plan (digest {fresh.digest}, "
                f"approved {row['digest']}): something changed since the review",
                hint="run plan again, review the difference and approve the new digest")
        # From here on the approved plan is what runs, even if a write below fails half-way
        # and the account then differs from it: a re-run resumes instead of being refused.
        with ctx.db.session() as session:
            state.record_item(session, approval=row["token"], engagement=ctx.engagement,
                              blueprint=plan.blueprint, item_key=state.STARTED, action="start",
                              result={})
    for item in plan.changes:
        if item.key in done:
            report.already_done.append(item.key)
            continue
        try:
            ids = _run_item(ctx, plan, item, approver=row["approver"], token=row["token"])
        except FdeError as exc:  # recorded so the timeline says failed; a re-run resumes
            with ctx.db.session() as session:
                state.record_item(session, approval=row["token"], engagement=ctx.engagement,
                                  blueprint=plan.blueprint, item_key=item.key,
                                  action=item.action, status="failed",
                                  result={"error": exc.message})
            raise
        report.applied.append(item.key)
        report.results[item.key] = ids
    return report


def _run_item(ctx: BlueprintContext, plan: Plan, item: PlanItem, *, approver: str,
              token: str) -> list[str]:
    ids: list[str] = []
    for n, write in enumerate(item.writes):
        if write.target != "stripe":
            continue
        key = idempotency_key("bp", ctx.engagement, plan.blueprint, plan.digest, item.key,
                              str(n))
        answer = ctx.gateway.write("delete" if write.method == "delete" else "post",
                                   write.path, _form(write.params), idempotency_key=key)
        if isinstance(answer.get("id"), str):
            ids.append(answer["id"])
    with ctx.db.session() as session:
        for write in item.writes:
            if write.target == "config":
                state.write_setting(session, ctx.engagement, write.path,
                                    blueprint=plan.blueprint, body=write.params, actor=approver)
                ids.append(f"config:{write.path}")
        state.record_item(session, approval=token, engagement=ctx.engagement,
                          blueprint=plan.blueprint, item_key=item.key, action=item.action,
                          result={"ids": ids})
        audit.record(session, actor=approver, action=f"blueprint.{item.action}",
                     target=item.key, engagement=ctx.engagement, details={
                         "blueprint": plan.blueprint, "digest": plan.digest,
                         "approval": token, "ids": ids, "applied_by": ctx.actor,
                         "changes": [c.model_dump(mode="json") for c in item.changes]})
    return ids


def _form(params: dict[str, Any]) -> dict[str, Any]:
    """Stripe unsets a field with an empty string; None would be dropped by the encoder."""
    return {k: "" if v is None else _form(v) if isinstance(v, dict) else v
            for k, v in params.items()}

