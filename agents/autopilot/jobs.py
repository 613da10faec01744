"""The job kinds: what one scheduled run of sync, map refresh, checks, reconciliation or a
shadow re-run does for one engagement. Each returns a small JSON-able result for the status
view; an exception fails the attempt (the queue retries it).

Shadow re-runs replay the engagement's declared shadow test (`shadow.py`); without one the
job is ``skipped`` with the reason, never a pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from agents.autopilot.budget import AccountBudget, account_of
from agents.autopilot.handle import (
    CaseEnv,
    handle_discrepancies,
    handle_findings,
    handle_shadow,
    verify_findings,
)
from agents.autopilot.policy import JobKind, Policy
from agents.autopilot.schedule import handler_version
from agents.autopilot.shadow import ShadowRunner, case_item
from agents.autopilot.sink import EscalationSink
from agents.autopilot.triager import Triager
from agents.wiring import with_updates
from core import engagements
from core.engagements import Engagement
from core.models import EngagementRow
from core.secrets import SecretBox
from core.settings import Settings
from core.storage import Database
from tools.stripe.config import GatewayConfig
from tools.stripe.gateway import StripeGateway

__all__ = ["JOB_RUNNERS", "JobContext", "JobSkipped"]


class JobSkipped(Exception):  # noqa: N818 - an outcome, not a failure
    """The job had nothing it could do (recorded as ``skipped`` with the reason)."""


@dataclass
class JobContext:
    settings: Settings
    db: Database
    box: SecretBox
    engagement: Engagement
    policy: Policy
    now: datetime
    budget: AccountBudget
    sink: EscalationSink
    shadow: ShadowRunner
    triager: Triager | None = None
    actor: str = "autopilot"
    extra: dict[str, Any] = field(default_factory=dict)

    @contextmanager
    def gateway(self, connected: str | None = None) -> Iterator[StripeGateway]:
        """The engagement's gateway (acting as ``connected`` when given), drawing on its
        account's shared budget (connected accounts' calls count against the platform's:
        stricter than Stripe, never looser)."""
        name = self.engagement.name
        with self.db.session() as session:
            key = engagements.stripe_key(session, self.box, name)
        config = GatewayConfig.from_settings(self.settings, expected_mode=self.engagement
                                             .stripe_mode, tier=self.engagement.tier, api_key=key)
        updates: dict[str, object] = {"allow_live_money": self.engagement.allow_live_money}
        if self.engagement.stripe_api_base:
            updates["api_base"] = self.engagement.stripe_api_base
        if connected:
            updates["stripe_account"] = connected
        limiters = self.budget.registry_for(account_of(self.engagement, key.get_secret_value()))
        gateway = StripeGateway(with_updates(config, **updates), limiters=limiters)
        try:
            yield gateway
        finally:
            gateway.close()

    def case_env(self, tools: Callable[[], Any] | None = None) -> CaseEnv:
        return CaseEnv(db=self.db, engagement=self.engagement.name,
                       livemode=self.engagement.stripe_mode == "live", policy=self.policy,
                       now=self.now, sink=self.sink, actor=self.actor, triager=self.triager,
                       tools=tools)


def _snapshot(ctx: JobContext) -> Any:
    from tools.checks.engagement import snapshot_for

    return snapshot_for(ctx.settings, ctx.engagement.name)


def _snapshot_set(ctx: JobContext) -> Any:
    from tools.recon.sync.connect import SnapshotSet

    return SnapshotSet(_snapshot(ctx).root, accounts=ctx.engagement.connect_accounts)


def run_sync_job(ctx: JobContext) -> dict[str, Any]:
    """The platform, then each connected account declared on the engagement."""
    from tools.recon.sync import run_sync
    from tools.recon.sync.connect import account_snapshot

    types = ctx.policy.schedule.sync_types
    with ctx.gateway() as gateway:
        report = run_sync(gateway, _snapshot(ctx), types=types)
        stats = gateway.stats()
    for account in ctx.engagement.connect_accounts:
        with ctx.gateway(account) as sub:
            part = run_sync(sub, account_snapshot(_snapshot(ctx).root, account),
                            account=account, types=types)
        report.complete = report.complete and part.complete
        report.fetched += part.fetched
        report.warnings += [f"{account}: {w}" for w in part.warnings]
        report.unavailable.update({f"{t} ({account})": why for t, why in part.unavailable.items()})
    if not report.complete:  # resumable: the retry continues where this one stopped
        raise RuntimeError("the Stripe sync did not finish: " + "; ".join(report.warnings[:3]))
    return {"mode": report.mode, "fetched": report.fetched, "requests": stats.requests_sent,
            "rate_limited": stats.rate_limited, "warnings": report.warnings[:5],
            "unavailable": report.unavailable}  # types the server could not list, and why


def _check_context(ctx: JobContext) -> tuple[Any, Any]:
    from tools.checks.engagement import EngagementInputs, engagement_context

    inputs = EngagementInputs()
    context = engagement_context(settings=ctx.settings, db=ctx.db, box=ctx.box,
                                 engagement=ctx.engagement.name, gateway=None, sync=False,
                                 inputs=inputs)
    return context, inputs


def run_map_job(ctx: JobContext) -> dict[str, Any]:
    from tools.map import build_map
    from tools.map.store import save_snapshot

    context, inputs = _check_context(ctx)
    fresh = build_map(context, tables=inputs.tables, engagement=ctx.engagement.name)
    with ctx.db.session() as session:
        stored = save_snapshot(session, ctx.engagement.name, fresh)
    return {"version": stored.version, "nodes": len(stored.nodes), "edges": len(stored.edges),
            "warnings": inputs.warnings[:5]}


def run_checks_job(ctx: JobContext) -> dict[str, Any]:
    from tools.checks.runner import run_and_store

    context, inputs = _check_context(ctx)
    report = run_and_store(ctx.db, ctx.engagement.name, context, trigger="autopilot")
    with _tools(ctx, context) as tools:
        counts = handle_findings(ctx.case_env(lambda: tools), report.findings,
                                 evaluated=report.evaluated)
    return {"run_id": report.run_id, "evaluated": report.evaluated, "skipped": report.skipped,
            "not_computable": report.not_computable, "errors": report.errors,
            "findings": len(report.findings), "cases": counts,
            "warnings": inputs.warnings[:5]}


@contextmanager
def _tools(ctx: JobContext, check_context: Any) -> Iterator[Any]:
    """The ToolContext the triage graph runs with: the same inputs the job used."""
    from tools.checks.runner import run_checks
    from tools.envelope import ToolContext

    user, mapping = _user(ctx)
    with ctx.gateway() as gateway:
        snap = _snapshot(ctx)
        try:
            yield ToolContext(
                engagement=ctx.engagement.name, gateway=gateway,
                snapshot=snap if snap.root.exists() else None, user_system=user,
                mapping=mapping, expected_livemode=ctx.engagement.stripe_mode == "live",
                findings=lambda: run_checks(check_context).findings)
        finally:
            if user is not None:
                user.engine.dispose()


def _user(ctx: JobContext) -> tuple[Any, Any]:
    from tools.recon.adapter import open_user_system
    from tools.recon.mapping import load_mapping

    with ctx.db.session() as session:
        token = session.scalar(select(EngagementRow.user_db_dsn_encrypted).where(
            EngagementRow.name == ctx.engagement.name))
    if not token or not ctx.engagement.mapping_path:
        return None, None
    mapping = load_mapping(ctx.engagement.mapping_path)
    return open_user_system(ctx.box.open(token), mapping), mapping


def run_reconcile_job(ctx: JobContext) -> dict[str, Any]:
    from tools.checks.runner import run_and_store
    from tools.recon.run import run_recon
    from tools.recon.store import save_run

    user, mapping = _user(ctx)
    if user is None:
        raise JobSkipped("no user database or mapping: nothing to reconcile against")
    snap = _snapshot_set(ctx)
    livemode = ctx.engagement.stripe_mode == "live"

    def reconcile() -> Any:
        run = run_recon(snapshot=snap, user=user, mapping=mapping,
                        engagement=ctx.engagement.name, expected_livemode=livemode)
        with ctx.db.session() as session:
            save_run(session, run)
        return run

    try:
        run = reconcile()
        context, _inputs = _check_context(ctx)
        with _tools(ctx, context) as tools:
            env = ctx.case_env(lambda: tools)
            counts = handle_discrepancies(env, run, user=user, rerun=reconcile)
            fresh, _ = _check_context(ctx)  # the repaired rows, read again
            report = run_and_store(ctx.db, ctx.engagement.name, fresh, trigger="autopilot")
            verified = verify_findings(env, report.findings, evaluated=report.evaluated)
    finally:
        user.engine.dispose()
    return {"run_id": run.id, "verdict": run.verdict.value, "counts": run.counts,
            "cases": counts, "findings_verified": verified}


def run_shadow_job(ctx: JobContext) -> dict[str, Any]:
    from tools.checks.engagement import profile_path

    version = handler_version(profile_path(ctx.settings, ctx.engagement.name))
    if version is None:
        raise JobSkipped("no declared handlers (integration.yaml): nothing to shadow-test")
    outcome = ctx.shadow.run(ctx, handler_version=version)
    if outcome.status == "unavailable":
        raise JobSkipped(outcome.detail)
    cases = handle_shadow(ctx.case_env(), case_item(outcome, version))
    return {"handler_version": version, "status": outcome.status, "run_id": outcome.run_id,
            "detail": outcome.detail[:500], "cases": cases}


JOB_RUNNERS: dict[JobKind, Callable[[JobContext], dict[str, Any]]] = {
    "sync": run_sync_job, "map_refresh": run_map_job, "checks": run_checks_job,
    "reconcile": run_reconcile_job, "shadow": run_shadow_job,
}
