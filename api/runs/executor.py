"""Executing one claimed run (in a worker thread): stream the graph, persist every event,
then record the outcome — thread state, escalations for any interrupt, run status, `end`.

A run re-claimed after its worker died continues from the thread's last checkpoint
instead of starting over, so a node that finished before the crash is not repeated."""

from __future__ import annotations

import threading
from typing import Any

from langgraph.types import Command

from api import escalations
from api.runs import events, queue
from api.runs.assistants import RunEnv
from api.runs.events import to_jsonable
from api.runs.queue import Claimed
from api.runs.store import update_thread
from core import audit
from core.logging import get_logger
from core.redact import redact

log = get_logger("api.runs")

__all__ = ["Cancelled", "execute"]

MAX_ATTEMPTS = 3


class Cancelled(Exception):
    """Raised inside the graph loop when the run was cancelled or its lease lost."""


class _Publisher:
    def __init__(self, rt: Any, run_id: str, stop: threading.Event) -> None:
        self.rt, self.run_id, self.stop = rt, run_id, stop
        self.seq = events.next_seq(rt.db, run_id)
        self.lock = threading.Lock()

    def __call__(self, event: str, data: Any) -> None:
        with self.lock:
            events.append(self.rt.db, self.run_id, self.seq, event, data)
            self.seq += 1
        self.rt.hub.notify(self.run_id)

    def emit(self, kind: str, payload: dict[str, Any]) -> None:
        """The planners' progress callback: tokens → `messages`, the rest → `custom`."""
        if self.stop.is_set():
            raise Cancelled
        if kind == "token":
            self("messages", [{"type": "AIMessageChunk", "content": payload.get("text", "")},
                              {"langgraph_node": payload.get("node", "")}])
        else:
            self("custom", {"kind": kind, **payload})


def _graph_input(graph: Any, config: dict[str, Any], run: Claimed, spec: Any) -> Any:
    state = graph.get_state(config)
    command = run.kwargs.get("command")
    if run.attempts > 1 and state.next and not state.interrupts:
        return None  # a previous attempt got part-way: continue from its checkpoint
    if command and command.get("resume") is not None:
        return Command(resume=command["resume"])
    return spec.prepare_input(run.kwargs.get("input") or {})


def _engagement(graph: Any, config: dict[str, Any], run: Claimed) -> str | None:
    given = (run.kwargs.get("input") or {}).get("engagement")
    return given or (graph.get_state(config).values or {}).get("engagement")


def execute(rt: Any, run: Claimed, worker: str, stop: threading.Event) -> str:
    """Run it to its end; returns the final status (or "lost" when the lease was lost)."""
    publish = _Publisher(rt, run.run_id, stop)
    spec = rt.assistants[run.assistant_id]
    graph = rt.graphs[run.assistant_id]
    config = {"configurable": {"thread_id": run.thread_id}}
    context = run.kwargs.get("context") or {}
    publish("metadata", {"run_id": run.run_id, "thread_id": run.thread_id,
                         "attempt": run.attempts, "worker": worker})
    status, error = "success", None
    try:
        if run.attempts > MAX_ATTEMPTS:
            raise RuntimeError(f"gave up after {MAX_ATTEMPTS} attempts whose workers died")
        graph_input = _graph_input(graph, config, run, spec)
        env = RunEnv(settings=rt.settings, db=rt.db, engagement=_engagement(graph, config, run),
                     sync=bool(context.get("sync", run.kwargs.get("command") is None)),
                     emit=publish.emit, planners=rt.planners,
                     on_execute=lambda d, call: _audit_execute(rt, run, d, call))
        if spec.needs_engagement and not env.engagement:
            raise ValueError("the input names no engagement: send input.engagement")
        with spec.context(env) as deps:
            # durability "sync": a step's checkpoint is written before the next step starts,
            # so a re-claimed run really continues after the last step that finished
            for mode, chunk in graph.stream(graph_input, config, context=deps,
                                            stream_mode=["values", "updates", "custom"],
                                            durability="sync"):
                if stop.is_set():
                    raise Cancelled
                publish(mode, chunk)
        snap = graph.get_state(config)
        pending = [{"value": to_jsonable(i.value), "id": i.id} for i in snap.interrupts]
        values = to_jsonable(snap.values or {})
        if pending:
            status = "interrupted"
            publish("values", {**values, "__interrupt__": pending})
        _record_outcome(rt, run, values, pending)
    except Cancelled:
        if rt.pool is not None and rt.pool.shutting_down.is_set():
            queue.release(rt.db, run.run_id, worker)
            return "released"
        status, error = "interrupted", "cancelled"
        publish("error", {"error": "Cancelled", "message": "the run was cancelled"})
        _set_thread(rt, run.thread_id, "idle")
    except Exception as exc:  # noqa: BLE001 - any graph failure becomes the run's error
        # the reason is shown to API clients and logged: never a secret (a DSN's password)
        reason = redact(str(exc))
        log.warning("run failed", run_id=run.run_id, error=reason)
        status, error = "error", f"{type(exc).__name__}: {reason}"
        publish("error", {"error": type(exc).__name__, "message": reason})
        _set_thread(rt, run.thread_id, "error")
    if not queue.finish(rt.db, run.run_id, worker, status, error):
        return "lost"
    publish("end", {"run_id": run.run_id, "status": status})
    return status


def _set_thread(rt: Any, thread_id: str, status: str) -> None:
    with rt.db.session() as session:
        update_thread(session, thread_id, status=status)


def _record_outcome(rt: Any, run: Claimed, values: dict[str, Any],
                    pending: list[dict[str, Any]]) -> None:
    with rt.db.session() as session:
        update_thread(session, run.thread_id, status="interrupted" if pending else "idle",
                      values=values, interrupts={run.run_id: pending} if pending else {},
                      assistant_id=run.assistant_id)
        for item in pending:
            escalations.open_for_interrupt(
                session, thread_id=run.thread_id, run_id=run.run_id,
                assistant_id=run.assistant_id, interrupt_id=item["id"], value=item["value"],
                values=values, settings=rt.settings)


def _audit_execute(rt: Any, run: Claimed, decision: Any, call: Any) -> None:
    with rt.db.session() as session:
        audit.record(session, actor=decision.actor or run.actor,
                     action=f"triage.execute.{call.name}", target=run.thread_id,
                     details={"run": run.run_id, "args": call.args,
                              "status": call.result.status, "message": call.result.message})
