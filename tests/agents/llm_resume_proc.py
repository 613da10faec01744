"""Subprocess driver for the LLM exit/resume test. `start` runs an LLM triage whose scripted
model kills this process (SIGKILL, no clean-up) on its third request, after two tool
rounds; `resume` (a new process) continues the thread from its checkpoint. Every request
the model gets is appended to `requests.jsonl`; every tool run to `probe.txt`."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import httpx

from agents.checkpoint import open_checkpointer
from agents.planners.base import LLMConfig
from agents.planners.llm import LLMPlanner
from agents.triage import build_triage_graph, start_triage
from agents.triage.run import DURABILITY, _result
from agents.triage.state import TriageDeps
from core.settings import load_settings
from tests.agents.fake_llm import ScriptedModel, text_turn, tool_turn
from tools.envelope import ToolContext, success
from tools.registry import Registry, ToolSpec
from tools.toolkit import GetObjectArgs

FINAL = json.dumps({"outcome": "cannot_prove", "category": "duplicates",
                    "explanation": "pi_First000001 and pi_Second00001 do not explain it",
                    "evidence_ids": ["pi_First000001", "pi_Second00001"]})


class DyingModel(ScriptedModel):
    def __init__(self, turns: list, log: Path, *, mode: str, kill_at: int | None) -> None:
        super().__init__(turns)
        self.log, self.mode, self.kill_at = log, mode, kill_at

    def handler(self, request: httpx.Request) -> httpx.Response:
        with self.log.open("a") as fh:
            fh.write(json.dumps({"mode": self.mode,
                                 "messages": json.loads(request.content)["messages"]}) + "\n")
        if len(self.requests) + 1 == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)  # the process dies mid-run, mid-request
        return super().handler(request)


def deps(work: Path, model: ScriptedModel) -> TriageDeps:
    def probe(ctx, args):  # noqa: ANN001, ANN202
        with (work / "probe.txt").open("a") as fh:
            fh.write(args.object_id + "\n")
        return success({"id": args.object_id, "status": "succeeded"},
                       evidence_ids=[args.object_id])

    planner = LLMPlanner(LLMConfig(api_key="sk-fake", base_url="http://llm.invalid/v1",
                                   model="fake"), http_client=model.client())
    return TriageDeps(planner=planner, registry=Registry([
        ToolSpec("get_stripe_object", probe, GetObjectArgs)]),
        tools=ToolContext(engagement="acme"))


def main() -> None:
    mode, thread, work = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    log = work / "requests.jsonl"
    with open_checkpointer(load_settings()) as saver:
        graph = build_triage_graph(saver)
        if mode == "start":
            model = DyingModel([
                tool_turn(("get_stripe_object", '{"object_id": "pi_First000001"}')),
                tool_turn(("get_stripe_object", '{"object_id": "pi_Second00001"}')),
            ], log, mode=mode, kill_at=3)
            result = start_triage(graph, deps(work, model), ticket="charged twice",
                                  engagement="acme", thread_id=thread)
        else:  # what a re-claimed API run does: continue the thread from its checkpoint
            model = DyingModel([text_turn(FINAL)], log, mode=mode, kill_at=None)
            graph.invoke(None, {"configurable": {"thread_id": thread}},
                         context=deps(work, model), durability=DURABILITY)
            result = _result(graph, thread)
    sys.stdout.write(result.model_dump_json())


if __name__ == "__main__":
    main()
