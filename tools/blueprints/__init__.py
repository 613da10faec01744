"""Blueprints: declarative, reviewable changes to a Stripe account and its engagement config.

    loaded = load_blueprint("catalog.yaml")
    plan = make_plan(loaded, ctx)                       # diff, Terraform-style
    approval = approve_plan(ctx, plan, approver="ana", digest=plan.digest)
    apply_plan(loaded, ctx, approval=approval.token)    # idempotent, resumable, audited
    verify_blueprint(loaded, ctx, check_context)        # converged? related checks? shadow run
"""

from tools.blueprints.context import BlueprintContext
from tools.blueprints.engine import ApplyReport, Approval, apply_plan, approve_plan, make_plan
from tools.blueprints.errors import ApprovalRequired, BlueprintInvalid
from tools.blueprints.loader import LoadedBlueprint, load_blueprint, parse_blueprint
from tools.blueprints.plan import Plan, PlanItem
from tools.blueprints.verify import VerifyReport, verify_blueprint

__all__ = [
    "ApplyReport", "Approval", "ApprovalRequired", "BlueprintContext", "BlueprintInvalid",
    "LoadedBlueprint", "Plan", "PlanItem", "VerifyReport", "apply_plan", "approve_plan",
    "load_blueprint", "make_plan", "parse_blueprint", "verify_blueprint",
]
