"""`fde recon sync|run|show|list|plan|repair`: reconcile Stripe with the user's own system."""

from __future__ import annotations

import json
import signal
import threading
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from cli import context, gate, wiring
from cli.output import console, err_console, say
from core import engagements
from core.errors import ConfigError
from core.models import EngagementRow
from core.secrets import secret_box
from tools.recon import store
from tools.recon.adapter import open_user_system
from tools.recon.apply import RepairPlan, apply_plan, make_plan
from tools.recon.mapping import load_mapping
from tools.recon.report import render_markdown, write_reports
from tools.recon.run import run_recon
from tools.recon.sync import RichProgress, Snapshot, SyncReport, run_sync
from tools.recon.sync.connect import SnapshotSet, sync_connected
from tools.stripe import StripeGateway

app = typer.Typer(help="Reconciliation: Stripe snapshot vs the user's database.",
                  no_args_is_help=True)

EngagementOpt = Annotated[str, typer.Option("--engagement", "-e", help="engagement name")]


def _snapshot(engagement: str) -> Snapshot:
    return Snapshot(context.settings().data_dir / "recon" / engagement / "snapshot")


def _since(value: str | None) -> int | None:
    if not value:
        return None
    if value.isdigit():
        return int(value)
    try:
        return int(datetime.fromisoformat(value).timestamp())
    except ValueError:
        raise ConfigError(f"--since {value!r} is neither unix seconds nor an ISO date",
                          hint="e.g. --since 2026-10-01 or --since 1759276800") from None


def _connect_accounts(engagement: str) -> list[str]:
    with context.database().session() as session:
        return list(engagements.get(session, engagement).connect_accounts)


def _sync(engagement: str, types: list[str] | None, since: int | None, slices: int,
          full: bool) -> SyncReport:
    """The platform, then each connected account on the engagement (its own snapshot under
    the platform's, read back as one by `SnapshotSet`)."""
    snap = _snapshot(engagement)
    stop = threading.Event()
    gateway = wiring.gateway(engagement)
    opened = [gateway]

    def gateway_for(account: str) -> StripeGateway:
        config = gateway.config.model_copy(update={"stripe_account": account})
        opened.append(StripeGateway(config))
        return opened[-1]

    previous = signal.getsignal(signal.SIGINT)

    def on_sigint(*_: object) -> None:  # finish the current page, checkpoint, then stop
        stop.set()

    signal.signal(signal.SIGINT, on_sigint)
    try:
        with RichProgress(console=err_console) as progress:
            report = run_sync(gateway, snap, types=types, since=since, slices=slices,
                              progress=progress, stop=stop, full=full)
            connected = _connect_accounts(engagement)
            if connected and not report.interrupted:
                subs = sync_connected(gateway_for, snap.root, connected, types=types,
                                      since=since, slices=slices, progress=progress, stop=stop,
                                      full=full)
                for account, sub in subs.items():
                    report.warnings += [f"{account}: {w}" for w in sub.warnings]
                    report.unavailable.update(
                        {f"{t} ({account})": why for t, why in sub.unavailable.items()})
                    report.fetched += sub.fetched
                    report.complete = report.complete and sub.complete
                    report.interrupted = report.interrupted or sub.interrupted
    finally:
        signal.signal(signal.SIGINT, previous)
        for opened_gateway in opened:
            opened_gateway.close()
    for warning in report.warnings:
        err_console.print(f"[yellow]warning:[/] {warning}")
    if report.interrupted:
        err_console.print("[yellow]interrupted:[/] progress is checkpointed; run the same "
                          "command again to resume")
        raise typer.Exit(130)
    return report


@app.command("sync")
def sync(
    engagement: EngagementOpt,
    types: Annotated[list[str] | None, typer.Option("--types", help="object types")] = None,
    since: Annotated[str | None, typer.Option(help="only objects created since")] = None,
    slices: Annotated[int, typer.Option(min=1, max=16, help="parallel created windows")] = 1,
    full: Annotated[bool, typer.Option(help="force a full re-sync")] = False,
) -> None:
    """Bring the engagement's Stripe snapshot up to date (resumable)."""
    report = _sync(engagement, types, _since(since), slices, full)
    listed = {k: v for k, v in report.types.items() if k not in report.unavailable}
    say(f"[green]synced[/] ({report.mode}): {report.fetched} fetched; "
        + ", ".join(f"{k} {v}" for k, v in listed.items()))
    _say_unavailable(report)


def _say_unavailable(report: SyncReport) -> None:
    """The types the snapshot lacks, one line each: a recon run is INCOMPLETE for them."""
    if report.unavailable:
        say(f"[yellow]INCOMPLETE[/] for {len(report.unavailable)} type(s) the server could "
            "not list (reconciliation will not compare them):")
    for otype, why in report.unavailable.items():
        say(f"  {otype}: {why}")


@app.command("run")
def run(
    engagement: EngagementOpt,
    since: Annotated[str | None, typer.Option(help="only objects created since")] = None,
    types: Annotated[list[str] | None, typer.Option("--types", help="object types")] = None,
    sync_first: Annotated[bool, typer.Option("--sync/--no-sync")] = True,
    out: Annotated[Path | None, typer.Option(help="report folder")] = None,
    slices: Annotated[int, typer.Option(min=1, max=16)] = 1,
    fail_on: Annotated[gate.VerdictLevel, typer.Option(
        "--fail-on", case_sensitive=False, help="exit 1 at this verdict or worse (pending = "
                          "RECONCILED_WITH_PENDING); INCOMPLETE always exits 3")
    ] = gate.VerdictLevel.breaks,
) -> None:
    """Sync, reconcile and write JSON, markdown and HTML reports; the run is stored.
    Exit 0 clean, 1 at or above --fail-on, 3 INCOMPLETE."""
    settings = context.settings()
    db = context.database()
    with db.session() as session:
        eng = engagements.get(session, engagement)
        row = session.scalar(select(EngagementRow).where(EngagementRow.name == engagement))
        dsn_token = row.user_db_dsn_encrypted if row else None
    if not dsn_token or not eng.mapping_path:
        raise ConfigError(f"engagement {engagement!r} has no user database or mapping file",
                          hint="add them with `fde engagement add --user-db DSN --mapping FILE`")
    mapping = load_mapping(eng.mapping_path)
    warnings: list[str] = []
    since_ts = _since(since)
    if sync_first:
        warnings += _sync(engagement, types, since_ts, slices, False).warnings
    user = open_user_system(secret_box(settings).open(dsn_token), mapping)
    snapshot = SnapshotSet(_snapshot(engagement).root, accounts=eng.connect_accounts)
    result = run_recon(snapshot=snapshot, user=user, mapping=mapping,
                       engagement=engagement, expected_livemode=eng.stripe_mode == "live",
                       since=since_ts, types=types, warnings=warnings)
    with db.session() as session:
        store.save_run(session, result)
    folder = out or settings.data_dir / "recon" / engagement / "runs" / result.id
    paths = write_reports(result, folder)
    colour = {"RECONCILED": "green", "BREAKS": "red"}.get(result.verdict.value, "yellow")
    say(f"run {result.id}: [{colour}]{result.verdict.value}[/] — {len(result.discrepancies)} "
        f"discrepancies ({', '.join(f'{k} {v}' for k, v in sorted(result.counts.items()))})")
    for reason in result.incomplete_reasons:
        say(f"  incomplete: {reason}")
    for b in result.bridge:
        if not b.computable:
            say(f"  bridge {b.label}: not computable — {b.reason}")
    say(f"  reports: {paths['json']}, {paths['md']}, {paths['html']}")
    raise typer.Exit(gate.recon_exit(result.verdict, fail_on))


@app.command("show")
def show(run_id: str, fmt: Annotated[str, typer.Option("--format", help="json or md")] = "md"
         ) -> None:
    """A stored run."""
    with context.database().session() as session:
        result = store.load_run(session, run_id)
    if fmt == "json":
        console.print_json(result.model_dump_json(by_alias=True))
    else:
        console.print(render_markdown(result), markup=False, highlight=False)


@app.command("list")
def list_(engagement: Annotated[str | None, typer.Option("--engagement", "-e")] = None) -> None:
    """Stored runs, newest first."""
    with context.database().session() as session:
        rows = store.list_runs(session, engagement=engagement)
    for r in rows:
        say(f"{r['id']}  {r['engagement'] or '-'}  {r['started_at']}  {r['verdict']}  "
            f"{sum((r['counts'] or {}).values())} discrepancies")


@app.command("plan")
def plan(run_id: str, out: Annotated[Path, typer.Option(help="plan file to write")]) -> None:
    """Write the run's repair plan; set `approved: true` on the items to apply."""
    with context.database().session() as session:
        result = store.load_run(session, run_id)
    out.write_text(make_plan(result).model_dump_json(indent=1))
    say(f"wrote {len(result.discrepancies)} proposed repairs to {out}")


@app.command("repair")
def repair(plan_file: Annotated[Path, typer.Option("--plan", help="approved plan file")]) -> None:
    """Apply the approved items of a plan (idempotent; one audit entry per item)."""
    try:
        repair_plan = RepairPlan.model_validate_json(plan_file.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the plan {plan_file}: {exc}") from None
    settings = context.settings()
    db = context.database()
    with db.session() as session:
        result = store.load_run(session, repair_plan.run_id)
        row = session.scalar(select(EngagementRow).where(
            EngagementRow.name == (result.engagement or "")))
        if row is None or not row.user_db_dsn_encrypted or not row.mapping_path:
            raise ConfigError("the run's engagement has no user database or mapping")
        dsn, mapping_path = secret_box(settings).open(row.user_db_dsn_encrypted), \
            row.mapping_path
    user = open_user_system(dsn, load_mapping(mapping_path))
    results = apply_plan(repair_plan, result, user=user, db=db, actor=wiring.actor())
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    say(json.dumps(counts))
