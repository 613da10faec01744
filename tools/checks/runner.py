"""`run_checks(ctx)`: every selected detector over one context, findings in a stable order;
`run_and_store` persists them (dedupe across runs, resolution of what disappeared)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from core.logging import get_logger
from core.storage import Database
from tools.checks.context import CheckContext
from tools.checks.model import Check, Finding
from tools.checks.registry import select_checks
from tools.checks.store import record_run, save_findings

__all__ = ["CheckReport", "run_and_store", "run_checks"]

log = get_logger("checks")


class CheckReport(BaseModel):
    run_id: str | None = None
    evaluated: list[str]
    skipped: list[str] = Field(default_factory=list, description="inputs missing")
    not_computable: dict[str, str] = Field(
        default_factory=dict, description="check id -> 'not computable: needs X'")
    errors: dict[str, str] = Field(default_factory=dict)
    findings: list[Finding]

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.findings:
            out[f.check] = out.get(f.check, 0) + 1
        return out


def run_checks(ctx: CheckContext, checks: list[Check] | None = None) -> CheckReport:
    selected = checks if checks is not None else select_checks()
    found: list[Finding] = []
    evaluated: list[str] = []
    skipped: list[str] = []
    errors: dict[str, str] = {}
    missing: dict[str, str] = {}
    for c in selected:
        if why := c.missing(ctx.available):
            skipped.append(c.id)
            missing[c.id] = why
            continue
        try:
            found += c.evaluate(ctx)
            evaluated.append(c.id)
        except Exception as exc:  # noqa: BLE001 - one broken detector must not hide the rest
            log.warning("check failed", check=c.id, error=str(exc))
            errors[c.id] = f"{type(exc).__name__}: {exc}"
    return CheckReport(evaluated=evaluated, skipped=skipped, not_computable=missing,
                       errors=errors, findings=found)


def run_and_store(db: Database, engagement: str, ctx: CheckContext, *,
                  checks: list[Check] | None = None, trigger: str = "manual") -> CheckReport:
    started = datetime.now(UTC)
    report = run_checks(ctx, checks)
    with db.session() as session:
        stored = save_findings(session, engagement, report.findings,
                               evaluated=report.evaluated)
        run_id = record_run(session, engagement, trigger=trigger, started=started,
                            counts=report.counts)
    return report.model_copy(update={"findings": stored, "run_id": run_id})
