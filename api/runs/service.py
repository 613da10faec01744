"""Creating runs (with the checks a client deserves a clear 4xx for), cancelling them, and
reading a thread's state and history from the checkpointer. Plain functions over the
runtime, so JSON routes, HTML pages and the CLI share them.

A run that resumes an escalated interrupt is created only from a decision taken by
`api.decisions` (the queue's rules): `create_run` routes a `command.resume` there, and
`decide_escalation` (queue routes, console, `fde queue decide`) queues the resume run of a
final decision in the same transaction."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api import decisions, escalations
from api.auth import Principal
from api.errors import Conflict
from api.escalations import DecisionIn, EscalationView
from api.runs import events, store
from api.runs.events import to_jsonable
from api.runs.models import Checkpoint, Interrupt, Run, RunCreate, ThreadState, ThreadTask
from api.runs.notify import RUNS, notify_in
from api.tables import runs
from core import audit
from core.errors import ConfigError, NotFoundError
from core.ids import new_id

__all__ = ["DecideResult", "cancel_run", "create_run", "decide_escalation", "thread_history",
           "thread_state"]


class UnknownAssistant(NotFoundError):
    default_hint = "list assistants with POST /assistants/search (triage, investigate, review)"


def _pending(rt: Any, assistant_id: str, thread_id: str) -> dict[str, Any]:
    graph = rt.graphs[assistant_id]
    snap = graph.get_state({"configurable": {"thread_id": thread_id}})
    return {i.id: i.value for i in snap.interrupts}


def _check_resume(rt: Any, assistant_id: str, thread_id: str, resume: Any) -> dict[str, Any]:
    """Strict resume (as agents.triage.run): the answer must name the pending interrupt."""
    pending = _pending(rt, assistant_id, thread_id)
    if not pending:
        raise Conflict(f"thread {thread_id} is not waiting for a decision",
                       hint="only a thread whose status is `interrupted` can be resumed")
    if not isinstance(resume, dict) or not resume:
        raise ConfigError("command.resume must map the pending interrupt id to the decision",
                          hint=f'{{"resume": {{"{next(iter(pending))}": {{"type": "approve"}}}}}}')
    unknown = sorted(set(resume) - set(pending))
    if unknown:
        raise ConfigError(f"interrupt {unknown[0]!r} is not pending on thread {thread_id}",
                          hint=f"pending: {', '.join(sorted(pending))}")
    for interrupt_id, value in resume.items():
        if not isinstance(value, dict) or value.get("type") not in (
                "approve", "edit", "reject", "respond"):
            raise ConfigError(f"command.resume.{interrupt_id}: each decision is an object "
                              "with type approve, edit, reject or respond",
                              hint='{"type": "approve", "action": "..."}')
    return resume


def _thread_ready(rt: Any, session: Session, thread_id: str, assistant_id: str,
                  if_not_exists: str = "reject") -> None:
    if assistant_id not in rt.assistants:
        raise UnknownAssistant(f"no assistant {assistant_id!r}")
    thread = store.find_thread(session, thread_id)
    if thread is None:
        if if_not_exists != "create":
            raise store.ThreadNotFound(f"no thread {thread_id!r}")
        store.insert_thread(session, thread_id, {})
    bound = store.thread_assistant(session, thread_id)
    if bound and bound != assistant_id:
        raise Conflict(f"thread {thread_id} belongs to assistant {bound!r}",
                       hint="start a new thread for another assistant")
    busy = store.active_run(session, thread_id)
    if busy:
        raise Conflict(f"thread {thread_id} already has run {busy} in progress",
                       hint="wait for it (GET …/runs/{run_id}/join) or cancel it")


def create_run(rt: Any, session: Session, thread_id: str, body: RunCreate,
               who: Principal) -> Run:
    _thread_ready(rt, session, thread_id, body.assistant_id, body.if_not_exists)
    resume = body.command.resume if body.command else None
    decided: list[str] = []
    if resume is not None:
        # each answer is a decision taken by the queue's rules, never the body as sent
        answers = {}
        for interrupt_id, value in _check_resume(rt, body.assistant_id, thread_id,
                                                 resume).items():
            escalation_id, answers[interrupt_id] = decisions.for_resume(
                rt, session, thread_id=thread_id, assistant_id=body.assistant_id,
                interrupt_id=interrupt_id, value=value, who=who)
            decided.append(escalation_id)
        resume = answers
    elif body.input is None:
        raise ConfigError("a run needs an input (or a command to resume)",
                          hint='e.g. {"input": {"ticket": "...", "engagement": "..."}}')
    elif store.find_thread(session, thread_id).status == "interrupted":  # type: ignore[union-attr]
        raise Conflict(f"thread {thread_id} is waiting for a decision",
                       hint="resume it with command.resume, or decide its escalation")
    run = _queue(session, thread_id, body, resume, who)
    for escalation_id in decided:
        escalations.mark_resumed(session, escalation_id, run.run_id)
    return run


def _queue(session: Session, thread_id: str, body: RunCreate, resume: dict[str, Any] | None,
           who: Principal) -> Run:
    run_id = new_id("run")
    at = store.now()
    kwargs = {"input": body.input, "command": {"resume": resume} if resume is not None
              else None, "stream_mode": body.modes(), "context": body.context or {},
              "config": body.config or {}}
    session.execute(runs.insert().values(
        run_id=run_id, thread_id=thread_id, assistant_id=body.assistant_id, status="pending",
        kwargs=to_jsonable(kwargs), metadata=body.metadata, on_disconnect=body.on_disconnect,
        cancel_requested=False, attempts=0, lease_owner=None, lease_expires_at=None,
        error=None, actor=who.actor, created_at=at, updated_at=at))
    # the client's first event: the run exists and is queued (a worker adds its own
    # metadata, with the attempt, when it starts)
    events.append_in(session, run_id, 0, "metadata", {"run_id": run_id, "thread_id": thread_id,
                                                      "status": "pending"})
    notify_in(session, RUNS, run_id)  # idle workers of every process
    store.update_thread(session, thread_id, status="busy", assistant_id=body.assistant_id)
    audit.record(session, actor=who.actor, action="run.create", target=run_id,
                 engagement=_engagement_name(body.input),
                 details={"thread": thread_id, "assistant": body.assistant_id,
                          "resume": sorted(resume) if resume is not None else None})
    return store.get_run(session, thread_id, run_id)


class DecideResult(BaseModel):
    escalation: EscalationView
    run_id: str | None  # the resume run; None while a second approver is needed
    waiting_for_second_approver: bool


def decide_escalation(rt: Any, escalation_id: str, who: Principal,
                      decision: DecisionIn) -> DecideResult:
    """Decide and (when final) queue the resume run, in one transaction."""
    from api.autopilot_sink import AUTOPILOT, feed_back

    with rt.db.session() as session:
        decided = decisions.decide(rt, session, escalation_id, who, decision)
        run_id = None
        esc = decided.escalation
        if decided.resume is not None and esc.assistant_id != AUTOPILOT:
            _thread_ready(rt, session, esc.thread_id, esc.assistant_id)
            body = RunCreate(assistant_id=esc.assistant_id,
                             stream_mode=["values", "updates", "custom"])
            run_id = _queue(session, esc.thread_id, body,
                            {esc.interrupt_id: decided.resume}, who).run_id
            escalations.mark_resumed(session, escalation_id, run_id)
        view = escalations.get(session, escalation_id)
    rt.wake()
    if decided.resume is not None and esc.assistant_id == AUTOPILOT:  # no graph: the case
        feed_back(rt.settings, rt.db, escalation_id)
        with rt.db.session() as session:
            view = escalations.get(session, escalation_id)
    return DecideResult(escalation=view, run_id=run_id,
                        waiting_for_second_approver=decided.resume is None)


def _engagement_name(given: dict[str, Any] | None) -> str | None:
    name = (given or {}).get("engagement")
    return name if isinstance(name, str) and 0 < len(name) <= 64 else None


def cancel_run(session: Session, thread_id: str, run_id: str) -> Run:
    run = store.get_run(session, thread_id, run_id)
    if run.status == "pending":
        session.execute(runs.update().where(runs.c.run_id == run_id, runs.c.status == "pending")
                        .values(status="interrupted", error="cancelled before it started",
                                cancel_requested=True, updated_at=store.now()))
        store.update_thread(session, thread_id, status="idle")
    elif run.status == "running":
        session.execute(runs.update().where(runs.c.run_id == run_id)
                        .values(cancel_requested=True))
    return store.get_run(session, thread_id, run_id)


def run_status(session: Session, run_id: str) -> str | None:
    return session.scalar(sa.select(runs.c.status).where(runs.c.run_id == run_id))


def _checkpoint(config: dict[str, Any] | None, thread_id: str) -> Checkpoint | None:
    if not config:
        return None
    c = config.get("configurable", {})
    return Checkpoint(thread_id=thread_id, checkpoint_ns=c.get("checkpoint_ns", ""),
                      checkpoint_id=c.get("checkpoint_id"))


def _state(snap: Any, thread_id: str) -> ThreadState:
    return ThreadState(
        values=to_jsonable(snap.values or {}), next=list(snap.next),
        checkpoint=_checkpoint(snap.config, thread_id),
        metadata=to_jsonable(snap.metadata or {}), created_at=snap.created_at,
        parent_checkpoint=_checkpoint(snap.parent_config, thread_id),
        tasks=[ThreadTask(id=t.id, name=t.name, error=str(t.error) if t.error else None,
                          interrupts=[Interrupt(value=to_jsonable(i.value), id=i.id)
                                      for i in t.interrupts]) for t in snap.tasks],
        interrupts=[Interrupt(value=to_jsonable(i.value), id=i.id) for i in snap.interrupts])


def _graph_for(rt: Any, session: Session, thread_id: str) -> Any:
    store.get_thread(session, thread_id)
    assistant = store.thread_assistant(session, thread_id)
    return rt.graphs.get(assistant) if assistant else None


def thread_state(rt: Any, session: Session, thread_id: str) -> ThreadState:
    graph = _graph_for(rt, session, thread_id)
    if graph is None:  # no run yet: an empty state
        return ThreadState(values={}, next=[], checkpoint=None, metadata={}, created_at=None,
                           parent_checkpoint=None, tasks=[])
    return _state(graph.get_state({"configurable": {"thread_id": thread_id}}), thread_id)


def thread_history(rt: Any, session: Session, thread_id: str, limit: int) -> list[ThreadState]:
    graph = _graph_for(rt, session, thread_id)
    if graph is None:
        return []
    config = {"configurable": {"thread_id": thread_id}}
    out = []
    for snap in graph.get_state_history(config, limit=limit):
        out.append(_state(snap, thread_id))
    return out
