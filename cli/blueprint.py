"""`fde blueprint plan|approve|apply|verify FILE --engagement NAME`: declarative changes to an
engagement's Stripe account and config, applied only after an engineer approves the plan."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli import context, wiring
from cli.output import console, print_json, say
from core.errors import FdeError
from core.redact import redact_secrets
from tools.blueprints import (
    BlueprintContext,
    apply_plan,
    approve_plan,
    load_blueprint,
    make_plan,
    verify_blueprint,
)
from tools.blueprints.render import render_plan
from tools.checks.engagement import EngagementInputs

app = typer.Typer(help="Blueprints: catalog, metering, checkout, dunning, invoicing, custom logic.")



def _out(text: str) -> None:
    """Plain text: plan lines hold brackets that rich would read as markup."""
    console.print(redact_secrets(text), markup=False, highlight=False, soft_wrap=True)


FileArg = Annotated[Path, typer.Argument(help="blueprint YAML (see tools/blueprints/examples)")]
EngagementOpt = Annotated[str, typer.Option("--engagement", "-e")]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def _ctx(file: Path, engagement: str) -> tuple[BlueprintContext, object]:
    loaded = load_blueprint(file)
    gateway = wiring.gateway(engagement)
    ctx = BlueprintContext(engagement=engagement, gateway=gateway, db=context.database(),
                           base_dir=loaded.base_dir, actor=wiring.actor())
    return ctx, loaded


@app.command("plan")
def plan(file: FileArg, engagement: EngagementOpt, as_json: JsonOpt = False,
         all_items: Annotated[bool, typer.Option("--all", help="show unchanged items")] = False,
         ) -> None:
    """Diff the blueprint against the account: create / update / replace / deactivate."""
    ctx, loaded = _ctx(file, engagement)
    with ctx.gateway:
        result = make_plan(loaded, ctx)
    if as_json:
        print_json({"digest": result.digest, **result.model_dump(mode="json")})
        return
    _out(render_plan(result, show_unchanged=all_items))


@app.command("approve")
def approve(file: FileArg, engagement: EngagementOpt,
            approver: Annotated[str, typer.Option(help="the engineer approving")],
            digest: Annotated[str, typer.Option(help="the digest of the plan you reviewed")],
            ) -> None:
    """Approve the reviewed plan (by its digest); prints the token `apply` needs."""
    ctx, loaded = _ctx(file, engagement)
    with ctx.gateway:
        approval = approve_plan(ctx, make_plan(loaded, ctx), approver=approver, digest=digest)
    say(f"approved {approval.changes} change(s), digest {approval.digest}")
    _out(f"token: {approval.token}")


@app.command("apply")
def apply(file: FileArg, engagement: EngagementOpt,
          approval: Annotated[str | None, typer.Option(help="token from `approve`")] = None,
          as_json: JsonOpt = False) -> None:
    """Apply an approved plan: idempotent, resumable, one audit entry per item."""
    ctx, loaded = _ctx(file, engagement)
    with ctx.gateway:
        report = apply_plan(loaded, ctx, approval=approval)
    if as_json:
        print_json(report.model_dump(mode="json"))
        return
    if not report.applied and not report.already_done:
        say("No changes. The account matches the blueprint.")
    for key in report.applied:
        _out(f"applied {key} {' '.join(report.results.get(key, []))}")
    if report.already_done:
        say(f"{len(report.already_done)} item(s) were already applied by this approval")


@app.command("verify")
def verify(file: FileArg, engagement: EngagementOpt, as_json: JsonOpt = False,
           sync: Annotated[bool, typer.Option("--sync/--no-sync",
                                              help="sync Stripe before the checks")] = True,
           ) -> None:
    """Converged? Related checks green? Which shadow run to do next."""
    from cli.check import build_engagement_context

    ctx, loaded = _ctx(file, engagement)
    inputs = EngagementInputs()
    try:
        check_ctx = build_engagement_context(engagement, sync=sync, inputs=inputs)
    except FdeError as exc:  # checks need a synced snapshot; verify still says what it can
        check_ctx = None
        inputs.warnings.append(f"checks not run: {exc}")
    with ctx.gateway:
        report = verify_blueprint(loaded, ctx, check_ctx)
    if as_json:
        print_json({**report.model_dump(mode="json"), "warnings": inputs.warnings})
        raise typer.Exit(0 if report.ok else 1)
    for warning in inputs.warnings:
        _out(f"warning: {warning}")
    _out(f"converged: {'yes' if report.converged else 'no'}"
         + (f" ({len(report.pending)} pending: {', '.join(report.pending[:5])})"
            if report.pending else ""))
    ran = [c for c in report.checks if c not in report.checks_skipped]
    _out(f"checks run: {', '.join(ran) or 'none'}")
    for f in report.findings:
        _out(f"  {f.severity:8} {f.check}: {f.summary}")
    _out(f"proposed shadow run ({report.shadow.reason}):\n  {report.shadow.command}")
    raise typer.Exit(0 if report.ok else 1)
