"""`fde shadow run|billing|show|list`: replay a corpus into a primary and a candidate handler;
run legacy billing in parallel with Stripe's."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Annotated

import typer
from pydantic import SecretStr
from rich.markup import escape

from cli import context, wiring
from cli.output import console, say
from tools.shadow import store
from tools.shadow.billing import BillingOptions, StripeSide, run_billing_parallel
from tools.shadow.errors import LegacyInputError
from tools.shadow.faults import FAULTS, check_faults
from tools.shadow.legacy import BillingWindow, load_legacy_csv, run_plugin
from tools.shadow.models import ShadowRun
from tools.shadow.plan import SECRET_ENV, HandlerSpec, ShadowPlan, run_plan
from tools.shadow.report import render_markdown, write_reports

app = typer.Typer(help="Shadow tests: replay Stripe events into two handlers and compare.",
                  no_args_is_help=True)


@app.command("run")
def run(
    corpus: Annotated[Path, typer.Option(help="JSON Lines corpus of Stripe events")],
    primary: Annotated[str, typer.Option(help="NAME=URL of the current handler")],
    candidate: Annotated[str, typer.Option(help="NAME=URL of the new handler")],
    primary_state: Annotated[str, typer.Option(help="DSN of the primary's own user DB")],
    candidate_state: Annotated[str, typer.Option(help="DSN of the candidate's own user DB")],
    mapping: Annotated[Path, typer.Option(help="mapping file of the user's tables")],
    fault: Annotated[list[str] | None, typer.Option(help=f"{'|'.join(FAULTS)}|all")] = None,
    only: Annotated[str | None, typer.Option(help="replay only 'clean' or one fault")] = None,
    seed: Annotated[int, typer.Option(help="fault seed (same seed, same plan)")] = 0,
    focus: Annotated[str | None, typer.Option(help="print mismatches of this event")] = None,
    engagement: Annotated[str | None, typer.Option("--engagement", "-e")] = None,
    out: Annotated[Path | None, typer.Option(help="report folder")] = None,
) -> None:
    """Replay, compare, inject faults; store the run and write JSON/markdown/HTML reports.
    The signing secret comes from FDE_SHADOW_WEBHOOK_SECRET or a hidden prompt."""
    secret = SecretStr(os.environ.get(SECRET_ENV) or typer.prompt(
        "webhook signing secret (whsec_…)", hide_input=True))
    faults = list(FAULTS) if fault == ["all"] else check_faults(list(fault or []))
    if only is not None:
        faults = [] if only == "clean" else check_faults([only])
    plan = ShadowPlan(corpus=corpus, mapping=mapping,
                      primary=HandlerSpec.parse(primary, primary_state),
                      candidate=HandlerSpec.parse(candidate, candidate_state),
                      faults=faults, seed=seed)
    report = run_plan(plan, secret=secret, engagement=engagement)
    _store_and_say(report, out, focus)


def _store_and_say(report: ShadowRun, out: Path | None, focus: str | None = None) -> None:
    with context.database().session() as session:
        store.save_run(session, report)
    folder = out or context.settings().data_dir / "shadow" / report.run.id
    paths = write_reports(report, folder)
    colour = {"PASS": "green", "FAIL": "red"}.get(report.verdict.value, "yellow")
    noise = "" if report.run.mode == "billing_parallel" else \
        f", noise removed {report.noise.removed}"
    say(f"run {report.run.id}: [{colour}]{report.verdict.value}[/] — "
        f"{len(report.mismatches)} mismatches{noise}")
    for reason in report.reasons:
        say(f"  {reason}")
    for m in report.top_mismatches:
        if focus not in (None, m.event_id):
            continue
        what = ", ".join(m.causes) if m.causes else \
            f"{m.invariant} · {m.event_type} · {m.fault or 'clean'}"
        say(escape(f"  {what}: {m.detail}"))
        say(escape(f"    repro: {m.repro}"))
    say(f"  reports: {paths['json']}, {paths['md']}, {paths['html']}")


@app.command("billing")
def billing(
    engagement: Annotated[str, typer.Option("--engagement", "-e",
                                            help="whose Stripe account to compare with")],
    legacy: Annotated[Path | None, typer.Option(help="legacy invoices as CSV")] = None,
    plugin: Annotated[str | None, typer.Option(
        help="module:function computing legacy invoices for --period-start/--period-end")
    ] = None,
    period_start: Annotated[str | None, typer.Option(help="plugin window, YYYY-MM-DD")] = None,
    period_end: Annotated[str | None, typer.Option(help="plugin window, YYYY-MM-DD")] = None,
    stripe: Annotated[StripeSide, typer.Option(
        help="preview: upcoming invoices (before cut-over); invoices: finalized ones")
    ] = "preview",
    customer: Annotated[list[str] | None, typer.Option(help="only this customer")] = None,
    out: Annotated[Path | None, typer.Option(help="report folder")] = None,
) -> None:
    """Legacy invoices vs Stripe's for the same customers and periods, each difference
    explained by cause (proration, tax rounding, currency exponent, missing usage,
    discount; UNEXPLAINED otherwise). Stored like replay runs."""
    if (legacy is None) == (plugin is None):
        raise LegacyInputError("give exactly one of --legacy FILE or --plugin module:function")
    if legacy is not None:
        rows = load_legacy_csv(legacy)
        source = f"--legacy {shlex.quote(str(legacy))}"
    else:
        if not (period_start and period_end):
            raise LegacyInputError("--plugin needs --period-start and --period-end")
        rows = run_plugin(str(plugin), BillingWindow.model_validate(
            {"start": period_start, "end": period_end, "customers": customer or None}))
        source = (f"--plugin {shlex.quote(str(plugin))} --period-start {period_start} "
                  f"--period-end {period_end}")
    repro = f"fde shadow billing {source} --engagement {shlex.quote(engagement)} " \
        f"--stripe {stripe}"
    gateway = wiring.gateway(engagement)
    try:
        report = run_billing_parallel(rows, gateway, BillingOptions(
            stripe=stripe, engagement=engagement, source=str(legacy or plugin),
            customers=list(customer or []), repro=repro))
    finally:
        gateway.close()
    _store_and_say(report, out)


@app.command("show")
def show(run_id: str,
         fmt: Annotated[str, typer.Option("--format", help="md or json")] = "md") -> None:
    """A stored run."""
    with context.database().session() as session:
        result = store.get_run(session, run_id)
    if fmt == "json":
        console.print_json(result.model_dump_json())
    else:
        console.print(render_markdown(result), markup=False, highlight=False)


@app.command("list")
def list_(engagement: Annotated[str | None, typer.Option("--engagement", "-e")] = None) -> None:
    """Stored runs, newest first."""
    with context.database().session() as session:
        for r in store.list_runs(session, engagement):
            say(f"{r.id}  {r.engagement or '-'}  {r.started_at:%Y-%m-%d %H:%M}  {r.verdict}  "
                f"{r.primary} vs {r.candidate}  {r.mismatches} mismatches")
