"""`fde shadow record|run|billing|show|list`: record a corpus from an account's events API;
replay it into a primary and a candidate app; run legacy billing in parallel with
Stripe's."""

from __future__ import annotations

import os
import shlex
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import SecretStr

from cli import context, wiring
from cli.output import console, err_console, say
from cli.shadow_view import ReplayProgress, render_summary
from tools.shadow import store
from tools.shadow.billing import BillingOptions, StripeSide, run_billing_parallel
from tools.shadow.corpus import Corpus, load_corpus, record_corpus, save_corpus
from tools.shadow.errors import CorpusError, LegacyInputError, TargetError
from tools.shadow.faults import FAULTS, check_faults, plan_for
from tools.shadow.legacy import BillingWindow, load_legacy_csv, run_plugin
from tools.shadow.models import ShadowRun
from tools.shadow.plan import SECRET_ENV, HandlerSpec, ShadowPlan, run_plan
from tools.shadow.redaction import redact_event
from tools.shadow.report import render_markdown, write_reports
from tools.stripe.gateway import StripeGateway

app = typer.Typer(help="Shadow tests: replay Stripe events into two handlers and compare.",
                  no_args_is_help=True)


def _headers(values: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values or []:
        name, sep, val = value.partition(":")
        if not sep or not name.strip():
            raise TargetError(f"--reset-header {value.split(':')[0]!r}… is not 'Name: value'",
                              hint="e.g. --reset-header 'X-Admin-Token: s3cret'")
        out[name.strip()] = val.strip()
    return out


def _since(value: str) -> int:
    """``30d``, ``12h``, ``90m``, an ISO date or unix seconds, as unix seconds."""
    units = {"d": 86_400, "h": 3_600, "m": 60}
    if value[:-1].isdigit() and value[-1:] in units:
        return int(time.time()) - int(value[:-1]) * units[value[-1]]
    if value.isdigit():
        return int(value)
    try:
        return int(datetime.fromisoformat(value).timestamp())
    except ValueError:
        raise CorpusError(f"--since {value!r} is not a duration, a date or unix seconds",
                          hint="e.g. --since 30d, --since 12h or --since 2026-11-01") from None


@app.command("record")
def record(
    engagement: Annotated[str, typer.Option("--engagement", "-e", help="whose account")],
    since: Annotated[str, typer.Option(help="30d, 12h, a date or unix seconds (Stripe keeps "
                                             "events 30 days)")] = "30d",
    type_: Annotated[list[str] | None, typer.Option(
        "--type", help="only these event types (the endpoint's enabled events)")] = None,
    account: Annotated[list[str] | None, typer.Option(
        help="also a connected account's events (acct_…)")] = None,
    out: Annotated[Path | None, typer.Option(help="corpus file (JSON Lines)")] = None,
) -> None:
    """Record a corpus from the engagement's events API (through the gateway), personal data
    pseudonymised and secrets cut before anything is written."""
    gateway = wiring.gateway(engagement)
    opened = [gateway]
    for acct in account or []:
        opened.append(StripeGateway(gateway.config.model_copy(update={"stripe_account": acct})))
    try:
        corpus = record_corpus(opened, types=list(type_ or []) or None, since=_since(since),
                               source=f"events API of {engagement}")
    finally:
        for g in opened:
            g.close()
    corpus = Corpus(events=tuple(redact_event(e) for e in corpus.events), source=corpus.source)
    path = out or context.settings().data_dir / "shadow" / "corpora" / \
        f"{engagement}-{datetime.now(UTC):%Y%m%d-%H%M%S}.jsonl"
    save_corpus(corpus, path)
    kinds = Counter(e["type"] for e in corpus.events)
    say(f"recorded {len(corpus)} events ({len(kinds)} types, API {corpus.api_version}) "
        f"to {path}\n  {corpus.hash}; personal data pseudonymised, secrets cut")


@app.command("run")
def run(
    corpus: Annotated[Path, typer.Option(help="JSON Lines corpus (fde shadow record)")],
    primary: Annotated[str, typer.Option(help="webhook URL of the current app (or NAME=URL)")],
    candidate: Annotated[str, typer.Option(help="webhook URL of the new app (or NAME=URL)")],
    primary_state: Annotated[str, typer.Option(
        help="the primary's own database URL, or its JSON state URL")],
    candidate_state: Annotated[str, typer.Option(
        help="the candidate's own database URL, or its JSON state URL")],
    primary_reset: Annotated[str | None, typer.Option(
        help="reset URL (POSTed), shell command, or database URL to snapshot; default: "
             "a snapshot of --primary-state")] = None,
    candidate_reset: Annotated[str | None, typer.Option(help="as --primary-reset")] = None,
    reset_header: Annotated[list[str] | None, typer.Option(
        help="'Name: value' sent with state and reset requests")] = None,
    mapping: Annotated[Path | None, typer.Option(
        help="mapping file of the app's tables (default: compare every table)")] = None,
    invariants: Annotated[Path | None, typer.Option(
        help="declared invariants file: what must hold in the app's state")] = None,
    fault: Annotated[list[str] | None, typer.Option(help=f"{'|'.join(FAULTS)}|all")] = None,
    only: Annotated[str | None, typer.Option(help="replay only 'clean' or one fault")] = None,
    seed: Annotated[int, typer.Option(help="fault seed (same seed, same plan)")] = 0,
    lanes: Annotated[int, typer.Option(help="concurrent delivery lanes (related events "
                                            "share one, in order)")] = 8,
    timeout: Annotated[float, typer.Option(help="seconds to wait for an answer, like "
                                                "Stripe; slower is a failed delivery")] = 10.0,
    max_minutes: Annotated[float | None, typer.Option(
        help="wall-time budget per replay; spent: INCONCLUSIVE")] = None,
    focus: Annotated[str | None, typer.Option(help="print mismatches of this event")] = None,
    engagement: Annotated[str | None, typer.Option("--engagement", "-e")] = None,
    out: Annotated[Path | None, typer.Option(help="report folder")] = None,
    progress: Annotated[bool, typer.Option(help="progress bars on stderr")] = True,
) -> None:
    """Replay a corpus into two running apps, compare what they answered and the state they
    left, inject faults; store the run and write JSON/markdown/HTML reports. Each app's
    state is reset to a snapshot taken before the run (or by its own reset) before every
    replay. The signing secret comes from FDE_SHADOW_WEBHOOK_SECRET or a hidden prompt."""
    secret = SecretStr(os.environ.get(SECRET_ENV) or typer.prompt(
        "webhook signing secret (whsec_…)", hide_input=True))
    faults = list(FAULTS) if fault == ["all"] else check_faults(list(fault or []))
    if only is not None:
        faults = [] if only == "clean" else check_faults([only])
    plan = ShadowPlan(
        corpus=corpus, mapping=mapping, invariants=invariants,
        primary=HandlerSpec.parse(primary, primary_state, default_name="primary",
                                  reset=primary_reset),
        candidate=HandlerSpec.parse(candidate, candidate_state, default_name="candidate",
                                    reset=candidate_reset),
        faults=faults, seed=seed, lanes=lanes, timeout=timeout, budget_minutes=max_minutes,
        reset_headers=_headers(reset_header))
    events = load_corpus(corpus)
    total = 3 * len(plan_for(events, None, seed)) + sum(
        2 * len(plan_for(events, f, seed)) for f in faults)
    with ReplayProgress(total, console=err_console, enabled=progress) as bars:
        report = run_plan(plan, secret=secret, engagement=engagement, observer=bars)
    _store_and_say(report, out, focus, outcomes=bars.outcomes)


def _store_and_say(report: ShadowRun, out: Path | None, focus: str | None = None, *,
                   outcomes: Counter[str] | None = None) -> None:
    with context.database().session() as session:
        store.save_run(session, report)
    folder = out or context.settings().data_dir / "shadow" / report.run.id
    paths = write_reports(report, folder)
    render_summary(report, console, outcomes=outcomes, focus=focus)
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
