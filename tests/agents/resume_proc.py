"""Subprocess driver for the exit/resume test: `start` runs triage until the interrupt and
exits; `resume` (a new process) resumes from the checkpoint. The side effect is a counting
money tool that appends a line to a file."""

from __future__ import annotations

import sys
from pathlib import Path

from agents.checkpoint import open_checkpointer
from agents.models import Diagnosis, ProposedAction
from agents.planners.base import Gathered
from agents.triage import build_triage_graph, resume_triage, start_triage
from agents.triage.state import TriageDeps
from core.settings import load_settings
from tools.envelope import ToolContext, success
from tools.registry import Registry, ToolSpec
from tools.toolkit import RefundArgs


class ScriptedPlanner:
    name = "scripted"

    def gather(self, *, ticket, facts, category, messages, run, emit):  # noqa: ANN001
        run("count_probe", {"payment_intent": "pi_Dup0000001"})
        return Gathered()

    def diagnose(self, *, ticket, facts, category, calls, messages, run, emit):  # noqa: ANN001
        return Diagnosis(outcome="diagnosed", category="duplicates", failure_mode="FM-07",
                         title="double charge", explanation="pi_Dup0000001 charged twice",
                         evidence_ids=["pi_Dup0000001"], needs_judgment=True,
                         judgment_why="refund vs credit",
                         actions=[ProposedAction(name="refund_payment", tier="money",
                                                 args={"payment_intent": "pi_Dup0000001"},
                                                 description="refund the duplicate")])


def deps(counter: Path) -> TriageDeps:
    def refund(ctx, args):  # noqa: ANN001, ANN202
        with counter.open("a") as fh:
            fh.write(args.payment_intent + "\n")
        return success({"id": "re_Counted0001"}, evidence_ids=["re_Counted0001"])

    def probe(ctx, args):  # noqa: ANN001, ANN202
        return success({"seen": args.payment_intent}, evidence_ids=[args.payment_intent])

    registry = Registry([ToolSpec("count_probe", probe, RefundArgs),
                         ToolSpec("refund_payment", refund, RefundArgs, tier="money")])
    return TriageDeps(planner=ScriptedPlanner(), registry=registry,
                      tools=ToolContext(engagement="acme"))


def main() -> None:
    mode, thread, counter = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    settings = load_settings()
    with open_checkpointer(settings) as saver:
        graph = build_triage_graph(saver)
        if mode == "start":
            result = start_triage(graph, deps(counter), ticket="charged twice for one order",
                                  engagement="acme", thread_id=thread)
        else:
            result = resume_triage(graph, deps(counter), thread_id=thread,
                                   interrupt_id=sys.argv[4],
                                   decision={"type": "approve", "action": "refund_payment"})
    sys.stdout.write(result.model_dump_json())


if __name__ == "__main__":
    main()
