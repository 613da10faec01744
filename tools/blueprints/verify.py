"""verify: did the blueprint land, do the related detectors pass, and which shadow run would
prove the behaviour before real customers meet it.

Converged means a fresh plan has no changes. The checks are the detectors for the failure
modes the blueprint kind is exposed to; they need a check context (a synced snapshot plus
the user system), which the caller builds. Shadow runs are proposed, never started here.
"""

from __future__ import annotations

import shlex
from typing import Literal

from pydantic import BaseModel, Field

from tools.blueprints.context import BlueprintContext
from tools.blueprints.engine import make_plan
from tools.blueprints.loader import LoadedBlueprint
from tools.checks.context import CheckContext
from tools.checks.model import Finding
from tools.checks.registry import select_checks
from tools.checks.runner import run_checks

__all__ = [
    "RELATED_CHECKS", "ShadowProposal", "VerifyReport", "shadow_command", "verify_blueprint",
]

RELATED_CHECKS: dict[str, list[str]] = {
    "catalog": ["currency.minor_units_table", "currency.three_decimal_rounding",
                "webhook.handled_events_enabled"],
    "metering": ["metering.identifier_deterministic"],
    "checkout": ["checkout.async_payment_events", "lpm.voucher_expiry_handled",
                 "lpm.fulfil_on_succeeded_not_processing"],
    "dunning": ["billing.dunning_end_state_handled", "billing.trial_missing_pm_explicit",
                "billing.incomplete_expiry_handled"],
    "invoicing": ["invoicing.invoice_created_2xx", "invoicing.paid_without_charge_handled",
                  "billing.portal_events_handled"],
    "custom_logic": ["currency.minor_units_table", "currency.three_decimal_rounding",
                     "invoicing.invoice_created_2xx"],
}
_SHADOW: dict[str, tuple[Literal["webhook_replay", "billing_parallel"], list[str], str]] = {
    "catalog": ("billing_parallel", [], "new prices change what the next invoices charge"),
    "metering": ("billing_parallel", [], "usage now flows through meters into invoices"),
    "checkout": ("webhook_replay", ["checkout.session.completed",
                                    "checkout.session.async_payment_succeeded",
                                    "checkout.session.async_payment_failed"],
                 "the handler must fulfil only paid sessions and wait for delayed methods"),
    "dunning": ("webhook_replay", ["invoice.payment_failed", "customer.subscription.updated",
                                   "customer.subscription.deleted"],
                "entitlements must follow the new retry schedule and end state"),
    "invoicing": ("webhook_replay", ["invoice.created", "invoice.finalized", "invoice.paid",
                                     "invoice.overdue"],
                  "send_invoice subscriptions are paid later and through other events"),
    "custom_logic": ("billing_parallel", [], "the plugin's invoice items must equal the legacy "
                     "billing logic's amounts for the same usage"),
}


class ShadowProposal(BaseModel):
    mode: Literal["webhook_replay", "billing_parallel"]
    event_types: list[str]
    reason: str
    command: str


class VerifyReport(BaseModel):
    engagement: str
    blueprint: str
    kind: str
    converged: bool
    pending: list[str] = Field(default_factory=list, description="items a plan would change")
    checks: list[str]
    checks_skipped: list[str] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    shadow: ShadowProposal

    @property
    def ok(self) -> bool:
        return self.converged and not self.findings


def shadow_command(mode: str, engagement: str) -> str:
    """A command that exists (`fde shadow billing` or `fde shadow run`), its inputs left as
    UPPER-CASE placeholders for the engineer to fill in."""
    e = shlex.quote(engagement)
    if mode == "billing_parallel":
        return f"fde shadow billing --engagement {e} --legacy LEGACY_INVOICES.csv --stripe preview"
    return (f"fde shadow run --engagement {e} --corpus EVENTS.jsonl "
            "--primary current=PRIMARY_URL --candidate new=CANDIDATE_URL "
            "--primary-state PRIMARY_DSN --candidate-state CANDIDATE_DSN "
            "--mapping MAPPING.yaml --fault all")


def verify_blueprint(loaded: LoadedBlueprint, ctx: BlueprintContext,
                     check_context: CheckContext | None) -> VerifyReport:
    kind = loaded.spec.kind
    plan = make_plan(loaded, ctx)
    checks = select_checks(RELATED_CHECKS[kind])
    findings: list[Finding] = []
    skipped = [c.id for c in checks]
    if check_context is not None:
        report = run_checks(check_context, checks)
        findings, skipped = report.findings, report.skipped
    mode, events, reason = _SHADOW[kind]
    command = shadow_command(mode, ctx.engagement)
    if events:
        reason += "; the corpus should hold " + ", ".join(events)
    return VerifyReport(
        engagement=ctx.engagement, blueprint=loaded.spec.name, kind=kind,
        converged=not plan.changes, pending=[i.key for i in plan.changes],
        checks=[c.id for c in checks], checks_skipped=skipped, findings=findings,
        shadow=ShadowProposal(mode=mode, event_types=events, reason=reason, command=command))
