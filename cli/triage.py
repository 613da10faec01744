"""`fde triage "ticket" --engagement NAME`: diagnose a ticket with the engagement's real tools
(its Stripe gateway, synced snapshot, user database + mapping, detectors, pattern index);
escalations print their thread and interrupt ids.

`fde triage resume THREAD_ID --interrupt-id ID --decision approve|reject|respond` answers an
escalation (strictly: the interrupt must be the pending one, the action one it proposed) as
the API user whose token is given (`cli.login`), with that user's role. A money action is
never approved here: it moves only through the escalation queue's rules (two approvers,
claims), which a terminal session on a CLI thread cannot hold — run the triage through the
API (`fde serve`) and decide it with `fde queue decide` (docs/decisions/0002).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from cli import context
from cli.login import Token, principal
from cli.output import console, say
from core.errors import ConfigError
from core.redact import redact_secrets

__all__ = ["engagement_tools", "triage"]


@contextmanager
def engagement_tools(name: str, *, sync: bool = True) -> Iterator[Any]:
    """`agents.wiring.engagement_tools` for this CLI invocation; warnings are printed."""
    from agents.wiring import engagement_tools as build

    with build(context.settings(), context.database(), name, sync=sync,
               warn=lambda w: say(f"[yellow]warning:[/] {w}")) as tools:
        yield tools


def _print(result: Any) -> None:
    d = result.diagnosis
    say(f"status: {result.status}  thread: {result.thread_id}")
    if d is not None:
        say(f"{d.outcome}: {d.failure_mode or '-'} ({d.category})")
        console.print(redact_secrets(d.explanation), markup=False, highlight=False)
        if d.evidence_ids:
            console.print("evidence: " + ", ".join(d.evidence_ids[:20]), markup=False,
                          highlight=False)
        if d.fix:
            console.print(f"fix: {d.fix}", markup=False, highlight=False)
        if d.pattern_refs:  # only once `fde knowledge index` has built the library's index
            console.print("patterns: " + ", ".join(d.pattern_refs), markup=False,
                          highlight=False)
    for call in result.executed:
        say(f"executed {call['name']}: {call['result']['status']} {call['result']['message']}")
    if result.interrupt:
        value = result.interrupt.value
        say(f"escalated: interrupt {result.interrupt.id} — {value['reason']}")
        for req in value["action_requests"]:
            say(f"  proposed {req['name']}: {req['description']}")
        say(f"  answer: fde triage resume {result.thread_id} --interrupt-id "
            f"{result.interrupt.id} --decision approve|reject|respond [--action NAME]")


def _decision(payload: dict[str, Any], decision: str, action: str | None,
              message: str | None) -> dict[str, Any]:
    """The engineer's answer, checked against what the escalation allows."""
    from agents.escalation import CONFIRM

    if decision not in ("approve", "reject", "respond"):
        raise ConfigError(f"--decision {decision!r} is not one of approve, reject, respond")
    if decision == "respond" and not (message and message.strip()):
        raise ConfigError("--decision respond needs --message", hint='--message "what to say"')
    if decision != "approve" and action:
        raise ConfigError("--action only goes with --decision approve")
    allowed = {c["action_name"]: c["allowed_decisions"] for c in payload["review_configs"]}
    name = action or CONFIRM
    if decision == "approve" and name not in allowed:
        raise ConfigError(f"--action {name!r} was not proposed by this escalation",
                          hint=f"proposed: {', '.join(allowed)}")
    if decision == "approve" and decision not in allowed[name]:
        raise ConfigError(f"{name} cannot be approved")
    return {"type": decision, "action": name if decision == "approve" else None,
            "message": message or ""}


def _check_role(who: Any, payload: dict[str, Any], answer: dict[str, Any]) -> None:
    """Who may take this decision here: an engineer; an action only when it is a write."""
    from agents.escalation import CONFIRM
    from core.errors import PermissionDenied

    if not who.at_least("engineer"):
        raise PermissionDenied(f"deciding needs the engineer role; {who.name} is a {who.role}")
    if answer["action"] in (None, CONFIRM):
        return
    tier = next((a.get("tier") for a in (payload.get("diagnosis") or {}).get("actions") or []
                 if a.get("name") == answer["action"]), None)
    if tier != "write":
        raise PermissionDenied(
            f"{answer['action']} moves money: it is approved only in the escalation queue, "
            "where the approver role, two approvers and claims hold",
            hint="run the triage through the API (`fde serve`, POST /threads/{id}/runs) and "
                 "decide it with `fde queue decide`; here, confirm, reject or respond")


def _resume(thread_id: str, interrupt_id: str | None, decision: str | None,
            action: str | None, message: str | None, planner: str | None, sync: bool,
            token: str | None) -> None:
    from agents.checkpoint import open_checkpointer
    from agents.planners import select_planner
    from agents.triage import build_triage_graph, resume_triage
    from agents.triage.state import TriageDeps
    from core.errors import NotFoundError
    from tools.registry import default_registry

    if not interrupt_id or not decision:
        raise ConfigError("resume needs --interrupt-id and --decision",
                          hint="fde triage resume THREAD --interrupt-id ID --decision approve")
    who = principal(token)
    with open_checkpointer(context.settings()) as saver:
        graph = build_triage_graph(saver)
        snap = graph.get_state({"configurable": {"thread_id": thread_id}})
        if not snap.values:
            raise NotFoundError(f"no triage thread {thread_id!r}",
                                hint="the thread id is printed by `fde triage`")
        pending = {i.id: i.value for i in snap.interrupts}
        if interrupt_id not in pending:
            raise ConfigError(f"interrupt {interrupt_id!r} is not pending on {thread_id}",
                              hint=f"pending: {', '.join(pending) or 'none'}")
        answer = _decision(pending[interrupt_id], decision, action, message)
        _check_role(who, pending[interrupt_id], answer)
        answer["actor"] = who.actor
        chosen, note = select_planner(dict(os.environ), prefer=planner)
        name = snap.values["engagement"]
        with engagement_tools(name, sync=sync) as tools:
            tools.cache["audit"] = lambda d, call: _audit(name, thread_id, d.model_dump(), call)
            deps = TriageDeps(planner=chosen, registry=default_registry(), tools=tools,
                              planner_note=note)
            result = resume_triage(graph, deps, thread_id=thread_id, interrupt_id=interrupt_id,
                                   decision=answer)
        _audit(name, thread_id, answer, None)
    _print(result)


def _audit(engagement: str, thread_id: str, decision: dict[str, Any], call: Any) -> None:
    """One audit row per decision, and one per action it ran."""
    from core import audit

    details: dict[str, Any] = {"thread": thread_id, "decision": decision}
    action = "triage.decision"
    if call is not None:
        action = f"triage.execute.{call.name}"
        details |= {"args": call.args, "status": call.result.status,
                    "message": call.result.message}
    with context.database().session() as session:
        audit.record(session, actor=decision["actor"], action=action,
                     target=thread_id, engagement=engagement, details=details)


def triage(
    ticket: Annotated[str, typer.Argument(help="the user's words, or `resume`")],
    thread_id: Annotated[str | None, typer.Argument(help="resume: the thread id")] = None,
    engagement: Annotated[str | None, typer.Option("--engagement", "-e",
                                                   help="engagement name")] = None,
    planner: Annotated[str | None, typer.Option(help="offline or llm")] = None,
    sync: Annotated[bool, typer.Option("--sync/--no-sync",
                                       help="sync the Stripe snapshot first")] = True,
    interrupt_id: Annotated[str | None, typer.Option("--interrupt-id",
                                                     help="resume: the pending id")] = None,
    decision: Annotated[str | None, typer.Option(
        help="resume: approve, reject or respond")] = None,
    action: Annotated[str | None, typer.Option(
        help="resume: the proposed action to approve (default: confirm the diagnosis)")] = None,
    message: Annotated[str | None, typer.Option(help="resume: the answer (respond)")] = None,
    token: Token = None,
) -> None:
    """Triage a support ticket: category, failure mode, evidence, fix; escalates judgment.
    `fde triage resume THREAD --interrupt-id ID --decision ...` answers an escalation."""
    if ticket == "resume":
        if not thread_id:
            raise ConfigError("resume needs the thread id",
                              hint="fde triage resume THREAD --interrupt-id ID --decision ...")
        _resume(thread_id, interrupt_id, decision, action, message, planner, sync, token)
        return
    if thread_id or interrupt_id or decision or action or message:
        raise ConfigError("--interrupt-id/--decision/--action/--message only go with resume",
                          hint="fde triage resume THREAD --interrupt-id ID --decision approve")
    if not engagement:
        raise ConfigError("--engagement is required", hint='fde triage "..." --engagement NAME')
    from agents.checkpoint import open_checkpointer
    from agents.planners import select_planner
    from agents.triage import build_triage_graph, start_triage
    from agents.triage.state import TriageDeps
    from tools.registry import default_registry

    chosen, note = select_planner(dict(os.environ), prefer=planner)
    say(f"[dim]planner: {note}[/]")
    with engagement_tools(engagement, sync=sync) as tools, \
            open_checkpointer(context.settings()) as saver:
        deps = TriageDeps(planner=chosen, registry=default_registry(), tools=tools,
                          planner_note=note)
        result = start_triage(build_triage_graph(saver), deps, ticket=ticket,
                              engagement=engagement)
    _print(result)
