"""`fde autopilot`: scheduled sync / map / checks / reconciliation per engagement, under
policy.

    fde autopilot run --once             one tick for every engagement, then exit
    fde autopilot run                    the embedded scheduler (until Ctrl-C)
    fde autopilot worker                 a queue worker (PostgreSQL; run several)
    fde autopilot status [-e NAME]       what ran, what is late, what failed (+ scorecard)
    fde autopilot policy set NAME --file policy.yaml --role approver
    fde autopilot policy show NAME
    fde autopilot digest NAME [--hours 24] [--format markdown|text]
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from cli import context, wiring
from cli.output import console, print_json, say
from core.errors import ConfigError

app = typer.Typer(help="Autopilot: scheduled checks, reconciliation and triage, under policy.",
                  no_args_is_help=True)
policy_app = typer.Typer(help="Per-engagement autopilot policy (YAML).", no_args_is_help=True)
app.add_typer(policy_app, name="policy")


@contextmanager
def _autopilot() -> Iterator[object]:
    from agents.autopilot import Autopilot, AutopilotDeps, GraphTriager
    from agents.checkpoint import open_checkpointer
    from agents.planners import select_planner

    settings = context.settings()
    planner, note = select_planner(dict(os.environ))
    with open_checkpointer(settings) as saver:
        triager = GraphTriager(planner, checkpointer=saver, planner_note=note)
        yield Autopilot(AutopilotDeps(settings=settings, db=context.database(),
                                      triager=triager))


@app.command("run")
def run(
    once: Annotated[bool, typer.Option("--once", help="one tick, then exit")] = False,
    poll: Annotated[float, typer.Option(help="seconds between ticks")] = 30.0,
) -> None:
    """Run the schedule in this process (the embedded default)."""
    with _autopilot() as pilot:
        if once:
            report = pilot.run_once()  # type: ignore[attr-defined]
            for job in report.jobs:
                colour = {"done": "green", "skipped": "yellow"}.get(job.status, "red")
                say(f"[{colour}]{job.status:8}[/] {job.engagement} {job.kind} tick {job.tick}"
                    + (f" — {job.error}" if job.error else ""))
            say(f"{len(report.jobs)} job(s) ran, {report.enqueued} enqueued; notifications "
                f"{report.notifications}")
            return
        stop = asyncio.Event()
        say(f"[dim]autopilot running, a tick every {poll:g} s; Ctrl-C stops it[/]")
        try:
            asyncio.run(pilot.serve(stop, poll_seconds=poll))  # type: ignore[attr-defined]
        except KeyboardInterrupt:
            say("stopped")


@app.command("worker")
def worker(poll: Annotated[float, typer.Option(help="idle wait, seconds")] = 5.0) -> None:
    """Claim and run due jobs until Ctrl-C (several workers share one PostgreSQL queue)."""
    if not (context.settings().database_url or "").startswith("postgresql"):
        say("[yellow]warning:[/] workers share a queue on PostgreSQL; on SQLite prefer "
            "`fde autopilot run`")
    stop = threading.Event()
    with _autopilot() as pilot:
        try:
            pilot.serve_worker(stop, poll_seconds=poll)  # type: ignore[attr-defined]
        except KeyboardInterrupt:
            stop.set()


@app.command("status")
def status(
    engagement: Annotated[str | None, typer.Option("--engagement", "-e")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """What ran, what is late, what failed; with --engagement also its health scorecard."""
    from agents.autopilot.health import scorecard
    from agents.autopilot.policy_store import get_policy
    from agents.autopilot.status import engagement_status
    from core import engagements

    now = datetime.now(UTC)
    with context.database().session() as session:
        names = [engagement] if engagement else [e.name for e in engagements.list_all(session)]
        if engagement:
            engagements.get(session, engagement)  # unknown → clear error
        views = [engagement_status(session, n, get_policy(session, n).policy.schedule, now=now)
                 for n in names]
        card = scorecard(session, engagement, now=now) if engagement else None
    if as_json:
        print_json({"engagements": [v.model_dump(mode="json") for v in views],
                    "scorecard": card.model_dump(mode="json") if card else None})
        return
    if not views:
        say("no engagements: add one with `fde engagement add`")
    for view in views:
        say(f"[bold]{view.engagement}[/]  cases: {view.cases or 'none'}")
        for kind, job in view.last.items():
            when = f"{job.finished_at:%Y-%m-%d %H:%M}" if job.finished_at else "-"
            say(f"  {kind:12} {job.status:8} {when}" + (f"  {job.error}" if job.error else ""))
        for line in view.late:
            say(f"  [yellow]late:[/] {line}")
        for job in view.failed:
            say(f"  [red]failed:[/] {job.kind} tick {job.tick} after {job.attempts} "
                f"attempt(s): {job.error}")
    if card is not None:
        say(f"health: [bold]{card.grade}[/]  standards met {card.standards_met}/"
            f"{card.standards_evaluated}  open findings {card.open_findings or 'none'}  "
            f"recon {' '.join(card.recon_trend) or '-'}  webhooks {card.webhooks or '-'}")


@policy_app.command("set")
def policy_set(
    engagement: Annotated[str, typer.Argument()],
    file: Annotated[Path, typer.Option("--file", "-f", help="policy YAML")],
    role: Annotated[str, typer.Option(help="your role; changes need approver")] = "engineer",
) -> None:
    """Replace the engagement's policy (validated first; nothing changes on error)."""
    from agents.autopilot.policy_store import set_policy
    from core.secrets import secret_box

    if not file.is_file():
        raise ConfigError(f"no policy file at {file}", hint="pass --file path/to/policy.yaml")
    with context.database().session() as session:
        stored = set_policy(session, secret_box(context.settings()), engagement,
                            file.read_text(), actor=wiring.actor(), role=role)
    say(f"policy v{stored.version} set for {engagement}")


@policy_app.command("show")
def policy_show(engagement: Annotated[str, typer.Argument()]) -> None:
    """The engagement's policy as stored (or the built-in default)."""
    import yaml

    from agents.autopilot.policy_store import get_policy
    from core import engagements

    with context.database().session() as session:
        engagements.get(session, engagement)
        stored = get_policy(session, engagement)
    origin = (f"v{stored.version} by {stored.updated_by} at {stored.updated_at:%Y-%m-%d %H:%M}"
              if stored.version else "built-in default (nothing automatic)")
    say(f"[dim]# {engagement}: {origin}[/]")
    console.print(yaml.safe_dump(stored.policy.model_dump(mode="json", by_alias=True),
                                 sort_keys=False), markup=False, highlight=False)


@app.command("digest")
def digest_cmd(
    engagement: Annotated[str, typer.Argument()],
    hours: Annotated[float, typer.Option(help="period covered")] = 24.0,
    fmt: Annotated[str, typer.Option("--format", help="markdown or text")] = "markdown",
) -> None:
    """An e-mail-ready digest: open escalations, SLA breaches, what was resolved."""
    from agents.autopilot.notify import digest

    if fmt not in ("markdown", "text"):
        raise typer.BadParameter("use markdown or text", param_hint="--format")
    now = datetime.now(UTC)
    with context.database().session() as session:
        out = digest(session, engagement, since=now - timedelta(hours=hours), now=now)
    console.print(out.markdown if fmt == "markdown" else out.text, markup=False,
                  highlight=False)
