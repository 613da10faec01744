"""`fde advise --engagement NAME [--log FILE] [--json]`: the integration performance
advisor over the calls the company's code makes to Stripe — its OpenTelemetry client spans
(OTLP JSON) or an exported request log (JSONL/CSV); by default the engagement's
``stripe-calls.otlp.json`` in its data folder."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cli import context
from cli.output import console, print_json, say
from core import engagements
from tools.advisor import advise, calls_path, load_request_log

_COLOUR = {"high": "red", "medium": "yellow", "low": "cyan"}


def advise_cmd(
    engagement: Annotated[str, typer.Option("--engagement", "-e", help="engagement name")],
    log: Annotated[Path | None, typer.Option(
        "--log", help="OTLP JSON trace export (.json) or request log (.jsonl/.csv); default: "
                      "the engagement's stripe-calls.otlp.json in the data folder")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="findings as JSON")] = False,
) -> None:
    """Find polling, N+1 retrieves, small pages, 429 bursts, search-after-write, missing
    idempotency keys and API version spread — each with the calls it would save per day."""
    with context.database().session() as session:
        engagements.get(session, engagement)  # an unknown engagement is an error first
    path = log if log is not None else calls_path(context.settings().data_dir, engagement)
    records, source = load_request_log(path), str(path)
    advice = advise(records, source=source)
    if as_json:
        print_json(advice.model_dump(mode="json"))
        return
    span = ""
    if advice.first_at is not None and advice.last_at is not None:
        span = (f" from {_time(advice.first_at)} to {_time(advice.last_at)}, scaled from a "
                f"{advice.window_seconds} s window")
    say(f"{engagement}: {advice.requests} requests{span}")
    if not advice.findings:
        say("[green]no inefficiencies found[/]")
        return
    table = Table("severity", "finding", "calls seen", "avoidable", "saved/day", "summary")
    for f in advice.findings:
        table.add_row(f"[{_COLOUR[f.severity]}]{f.severity}[/]", f.kind, str(f.calls_observed),
                      str(f.avoidable_calls), str(f.calls_saved_per_day), f.summary)
    console.print(table)
    for f in advice.findings:
        say(f"[bold]{f.kind}[/]: {f.fix}\n  evidence: {', '.join(f.evidence[:6])}")
    say(f"calls saved per day = avoidable × 86400 ÷ window ({advice.window_seconds} s); "
        f"total {sum(f.calls_saved_per_day for f in advice.findings)}/day")


def _time(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
