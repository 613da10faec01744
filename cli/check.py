"""`fde check --engagement NAME [--only ID]`: run the integration detectors; `fde check list`
shows the catalogue, `fde check findings` the stored findings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cli import context, gate, wiring
from cli.output import console, print_json, say
from core.errors import ConfigError
from core.secrets import secret_box
from tools.checks import CHECKS, select_checks
from tools.checks.engagement import EngagementInputs, engagement_context
from tools.checks.export import Export, load_delivery_export
from tools.checks.runner import run_and_store
from tools.checks.store import list_findings

app = typer.Typer(help="Integration checks: deterministic detectors from the failure catalogue.")

_COLOUR = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}


def build_engagement_context(engagement: str, *, sync: bool, inputs: EngagementInputs,  # noqa: ANN201
                             export: Export | None = None):
    settings = context.settings()
    gateway = wiring.gateway(engagement) if sync else None
    try:
        return engagement_context(settings=settings, db=context.database(),
                                  box=secret_box(settings), engagement=engagement,
                                  gateway=gateway, sync=sync, inputs=inputs, export=export)
    finally:
        if gateway is not None:
            gateway.close()


@app.callback(invoke_without_command=True)
def check(
    ctx: typer.Context,
    engagement: Annotated[str | None, typer.Option("--engagement", "-e")] = None,
    only: Annotated[list[str] | None, typer.Option(
        "--only", help="check id, family prefix (webhook.) or FM id; repeatable")] = None,
    sync: Annotated[bool, typer.Option("--sync/--no-sync", help="sync Stripe first")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="findings as JSON")] = False,
    deliveries: Annotated[Path | None, typer.Option(
        "--deliveries", help="a delivery-attempt export of your endpoint (.jsonl/.csv) or "
                             "`stripe listen --print-json` output")] = None,
    fail_on: Annotated[gate.SeverityLevel, typer.Option(
        "--fail-on", case_sensitive=False,
        help="exit 1 when a finding is at this severity or above")
    ] = gate.SeverityLevel.critical,
) -> None:
    """Run the checks for an engagement; findings are stored (deduplicated across runs).
    Delivery health comes from the Events API's pending_webhooks and your processed-event
    log (mapping entity processed_event); checks missing both say what they need."""
    if ctx.invoked_subcommand is not None:
        return
    if not engagement:
        raise ConfigError("--engagement is required", hint="fde check --engagement NAME")
    checks = select_checks(only)
    inputs = EngagementInputs()
    export = load_delivery_export(deliveries) if deliveries is not None else None
    ctx_ = build_engagement_context(engagement, sync=sync, inputs=inputs, export=export)
    report = run_and_store(context.database(), engagement, ctx_, checks=checks)
    if as_json:
        print_json({"run_id": report.run_id, "evaluated": report.evaluated,
                    "skipped": report.skipped, "not_computable": report.not_computable,
                    "delivery": [h.model_dump() for h in ctx_.delivery.handling()],
                    "errors": report.errors,
                    "warnings": inputs.warnings,
                    "findings": [f.model_dump(mode="json") for f in report.findings]})
        raise typer.Exit(gate.check_exit((f.severity for f in report.findings), fail_on))
    for warning in inputs.warnings:
        say(f"[yellow]warning:[/] {warning}")
    table = Table("severity", "check", "FM", "subject", "summary", show_lines=False)
    for f in sorted(report.findings, key=lambda f: (f.check, f.subject)):
        table.add_row(f"[{_COLOUR[f.severity]}]{f.severity}[/]", f.check, f.failure_mode or "",
                      f.subject[:40], f.summary[:100])
    if report.findings:
        console.print(table)
    for check_id, why in sorted(report.not_computable.items()):
        say(f"[yellow]{check_id}[/]: {why}")
    for h in ctx_.delivery.handling():
        problems = {k: v for k, v in (("unacknowledged", h.unacknowledged), ("missed", h.missed),
                                      ("late", h.late), ("duplicated", h.duplicated),
                                      ("out of order", h.out_of_order)) if v}
        if problems:
            say(f"delivery {h.event_type}: {h.events} events, "
                + ", ".join(f"{v} {k}" for k, v in problems.items()) + f" ({h.sources})")
    say(f"run {report.run_id}: {len(report.findings)} findings from {len(report.evaluated)} "
        f"checks ({len(report.skipped)} skipped for missing inputs)")
    raise typer.Exit(gate.check_exit((f.severity for f in report.findings), fail_on))


@app.command("list")
def list_checks() -> None:
    """The detectors: id, failure mode, severity, products."""
    for c in CHECKS.values():
        say(f"{c.id:42} {c.failure_mode:6} {c.severity:8} {', '.join(c.products)}")


@app.command("findings")
def findings(
    engagement: Annotated[str, typer.Option("--engagement", "-e")],
    resolved: Annotated[bool, typer.Option(help="include resolved findings")] = False,
) -> None:
    """Stored findings (open ones by default) as JSON."""
    with context.database().session() as session:
        rows = list_findings(session, engagement, include_resolved=resolved)
    print_json([f.model_dump(mode="json") for f in rows])
