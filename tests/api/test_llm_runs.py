"""Two LLM triages at once through the API's two run workers, sharing the process's one
planner (as every run does) with a scripted model: neither conversation sees the other's
turns, and each thread's state holds its own conversation."""

from __future__ import annotations

import json
import threading

import httpx
import pytest

from agents.planners.base import LLMConfig
from agents.planners.llm import LLMPlanner
from tests.agents.fake_llm import ScriptedModel, text_turn, tool_turn
from tests.api.api_helpers import bearer
from tests.api.webhook_helpers import add_engagement

MARKERS = ("ALPHA", "BRAVO")


class PerTicketModel(ScriptedModel):
    """Answers each conversation by the marker in its ticket: first a tool call, then a
    final answer naming the marker. The first request of each waits until both runs have
    sent theirs, so the two conversations are in flight together."""

    def __init__(self) -> None:
        super().__init__([])
        self.lock = threading.Lock()
        self.both_started = threading.Barrier(len(MARKERS), timeout=60)

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        mine = [m for m in MARKERS if m in json.dumps(body["messages"])]
        with self.lock:
            self.requests.append(body)
            seen = sum(1 for r in self.requests if mine and mine[0] in json.dumps(r["messages"]))
        if seen == 1:
            self.both_started.wait()
            turn = tool_turn(("search_patterns", json.dumps({"query": "duplicate charge"})))
        else:
            turn = text_turn(json.dumps({
                "outcome": "cannot_prove", "category": "unknown",
                "explanation": f"nothing proves a cause for {'+'.join(mine)}"}))
        sse = "".join(f"data: {json.dumps(c)}\n\n" for c in self._chunks(turn))
        return httpx.Response(200, content=(sse + "data: [DONE]\n\n").encode(),
                              headers={"content-type": "text/event-stream"})


@pytest.mark.parametrize("api", [{"api_workers": 2}], indirect=True)
def test_two_llm_triages_at_once_keep_their_own_conversations(api):
    model = PerTicketModel()
    config = LLMConfig(api_key="sk-fake", base_url="http://llm.invalid/v1", model="fake")
    # the one planner of this process, as `select_planner` would cache it
    api.app.state.runtime.planners["triage"] = (
        LLMPlanner(config, http_client=model.client()), "LLM planner (scripted)")
    add_engagement(api.db, api.settings, secrets=())
    auth = bearer(api.db, "engineer")
    runs = {}
    for marker in MARKERS:
        tid = httpx.post(f"{api.url}/threads", json={}, headers=auth).json()["thread_id"]
        run = httpx.post(f"{api.url}/threads/{tid}/runs", headers=auth, json={
            "assistant_id": "triage", "context": {"sync": False},
            "input": {"ticket": f"Customer {marker} says they were charged twice",
                      "engagement": "acme"}}).json()
        runs[marker] = (tid, run["run_id"])
    joined = {marker: httpx.get(f"{api.url}/threads/{tid}/runs/{rid}/join", headers=auth,
                                timeout=120).json() for marker, (tid, rid) in runs.items()}
    # what the model was sent: each conversation twice, its own ticket and tool turn only
    sent = [[m for m in MARKERS if m in json.dumps(body["messages"])]
            for body in model.requests]
    assert sorted(map(tuple, sent)) == [("ALPHA",), ("ALPHA",), ("BRAVO",), ("BRAVO",)], sent
    for body in model.requests:
        roles = [m["role"] for m in body["messages"]]
        assert roles in (["system", "user"], ["system", "user", "assistant", "tool"]), roles
    for marker, (tid, rid) in runs.items():
        values = joined[marker]
        run = httpx.get(f"{api.url}/threads/{tid}/runs/{rid}", headers=auth).json()
        assert run["status"] == "success", run
        assert values["diagnosis"]["explanation"] == f"nothing proves a cause for {marker}"
        other = next(m for m in MARKERS if m != marker)
        conversation = json.dumps(values["messages"])
        assert marker in conversation and other not in conversation
        assert [m["type"] for m in values["messages"]] == ["human", "ai", "tool", "ai"]
