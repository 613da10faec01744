"""`fde chat --engagement NAME`: an interactive investigation (the investigate graph) over
the engagement's real tools. Offline chat planner by default; `--planner llm` streams a
model's answer. A write or money tool call asks for approval in the terminal."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from cli import context
from cli.output import console, say

__all__ = ["chat"]


def _tokens(kind: str, payload: dict) -> None:
    if kind == "token":
        console.print(payload["text"], end="", markup=False, highlight=False, soft_wrap=True)
    elif kind == "tool_call":
        say(f"[dim]→ {payload['name']}[/]")
    elif kind == "note":
        say(f"[dim]{payload['text']}[/]")


def _decide(value: dict) -> dict:
    say(f"approval needed: {value['reason']}")
    for req in value["action_requests"]:
        say(f"  {req['name']} {req['args']}")
    while True:
        try:
            answer = input("approve / reject / respond? ").strip().lower()
        except EOFError:
            answer = "reject"
        if answer in ("approve", "reject"):
            return {"type": answer}
        if answer == "respond":
            return {"type": "respond", "message": input("message> ").strip() or "no"}


def chat(
    engagement: Annotated[str, typer.Option("--engagement", "-e", help="engagement name")],
    planner: Annotated[str | None, typer.Option(help="offline (default) or llm")] = None,
    sync: Annotated[bool, typer.Option("--sync/--no-sync",
                                       help="sync the Stripe snapshot first")] = True,
    thread: Annotated[str | None, typer.Option(help="continue a thread")] = None,
) -> None:
    """Chat with the investigation agent about an engagement (empty line or Ctrl-D ends)."""
    from agents.checkpoint import open_checkpointer
    from agents.investigate import ask, build_investigate_graph, resume_chat
    from agents.investigate.state import InvestigateDeps
    from agents.planners.chat import select_chat_planner
    from cli.triage import engagement_tools
    from core.ids import new_id
    from tools.registry import default_registry

    chosen, note = select_chat_planner(dict(os.environ), prefer=planner)
    say(f"[dim]planner: {note}[/]")
    tid = thread or new_id("chat")
    with engagement_tools(engagement, sync=sync) as tools, \
            open_checkpointer(context.settings()) as saver:
        graph = build_investigate_graph(saver)
        deps = InvestigateDeps(planner=chosen, registry=default_registry(), tools=tools,
                               emit=_tokens)
        say(f"[dim]thread {tid}[/]")
        while True:
            try:
                line = input("you> ").strip()
            except EOFError:
                break
            if not line:
                break
            turn = ask(graph, deps, thread_id=tid, message=line, engagement=engagement)
            while turn.interrupt:
                console.print()
                turn = resume_chat(graph, deps, thread_id=tid,
                                   interrupt_id=turn.interrupt["id"],
                                   decision=_decide(turn.interrupt["value"]))
            console.print()
