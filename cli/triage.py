"""`fde triage "ticket" --engagement NAME`: diagnose a ticket; escalations print their id."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from cli import context
from cli.output import console, say
from core import engagements
from core.redact import redact_secrets

__all__ = ["triage"]


def _tools(name: str):  # noqa: ANN202 - a ToolContext for a stored engagement
    from knowledge.config import load_knowledge_settings
    from knowledge.index import open_index
    from tools.envelope import ToolContext
    from tools.recon.sync import Snapshot

    with context.database().session() as session:
        eng = engagements.get(session, name)  # EngagementNotFound → clear error
    snap_dir = context.settings().data_dir / "recon" / name / "snapshot"
    return ToolContext(engagement=name, snapshot=Snapshot(snap_dir) if snap_dir.exists()
                       else None, expected_livemode=eng.stripe_mode == "live",
                       knowledge=lambda: open_index(load_knowledge_settings()))


def triage(
    ticket: Annotated[str, typer.Argument(help="the user's words")],
    engagement: Annotated[str, typer.Option("--engagement", "-e", help="engagement name")],
    planner: Annotated[str | None, typer.Option(help="offline or llm")] = None,
) -> None:
    """Triage a support ticket: category, failure mode, evidence, fix; escalates judgment."""
    from agents.checkpoint import open_checkpointer
    from agents.planners import select_planner
    from agents.triage import build_triage_graph, start_triage
    from agents.triage.state import TriageDeps
    from tools.registry import default_registry

    chosen, note = select_planner(dict(os.environ), prefer=planner)
    say(f"[dim]planner: {note}[/]")
    deps = TriageDeps(planner=chosen, registry=default_registry(), tools=_tools(engagement),
                      planner_note=note)
    with open_checkpointer(context.settings()) as saver:
        result = start_triage(build_triage_graph(saver), deps, ticket=ticket,
                              engagement=engagement)
    d = result.diagnosis
    say(f"status: {result.status}  thread: {result.thread_id}")
    if d is not None:
        say(f"{d.outcome}: {d.failure_mode or '-'} ({d.category})")
        console.print(redact_secrets(d.explanation), markup=False, highlight=False)
    if result.interrupt:
        say(f"escalated: interrupt {result.interrupt.id} — {result.interrupt.value['reason']}")
