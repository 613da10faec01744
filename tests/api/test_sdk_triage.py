"""Acceptance: the official, unmodified langgraph-sdk client against the API on a real
uvicorn — create a thread, stream a triage run on a sandbox world engagement, see the
interrupt in `values.__interrupt__`, resume it with a decision, get the final state."""

from __future__ import annotations

import pytest
from langgraph_sdk import get_sync_client

from tests.agents.tickets import TICKETS
from tests.api.api_helpers import token


@pytest.mark.slow
def test_sdk_streams_a_triage_run_through_an_interrupt_and_resume(api, demo_engagement):
    client = get_sync_client(url=api.url, api_key=token(api.db, "engineer", "ana"))
    assert {a["assistant_id"] for a in client.assistants.search()} >= {
        "triage", "investigate", "review"}
    thread = client.threads.create(metadata={"engagement": demo_engagement})
    tid = thread["thread_id"]

    parts = list(client.runs.stream(
        tid, "triage", input={"ticket": TICKETS["FM-15"], "engagement": demo_engagement},
        stream_mode=["values", "updates", "custom"]))
    kinds = [p.event for p in parts]
    assert kinds[0] == "metadata" and kinds[-1] == "end", kinds
    run_id = parts[0].data["run_id"]
    ids = [p.id for p in parts]
    assert ids == [f"{run_id}:{i}" for i in range(len(parts))]  # persisted, gap-free
    assert "updates" in kinds and "custom" in kinds  # node updates and live tool calls
    assert any(p.data.get("kind") == "tool_call" for p in parts if p.event == "custom")
    last_values = [p.data for p in parts if p.event == "values"][-1]
    interrupt = last_values["__interrupt__"][0]
    payload = interrupt["value"]
    assert payload["diagnosis"]["failure_mode"] == "FM-15"
    assert {r["action_name"] for r in payload["review_configs"]} >= {"confirm_diagnosis"}
    assert parts[-1].data["status"] == "interrupted"
    assert client.threads.get(tid)["status"] == "interrupted"

    # the interrupt opened an escalation in the queue
    import httpx

    auth = {"x-api-key": token(api.db, "viewer", "vic")}
    queue = httpx.get(f"{api.url}/escalations", headers=auth).json()
    mine = [e for e in queue if e["thread_id"] == tid]
    assert len(mine) == 1 and mine[0]["interrupt_id"] == interrupt["id"]
    assert mine[0]["engagement"] == demo_engagement

    resumed = list(client.runs.stream(
        tid, "triage", command={"resume": {interrupt["id"]: {
            "type": "approve", "action": "confirm_diagnosis", "message": "agreed"}}},
        stream_mode="values"))
    assert resumed[-1].event == "end" and resumed[-1].data["status"] == "success"
    final = [p.data for p in resumed if p.event == "values"][-1]
    assert final["status"] == "resolved_by_engineer" and "__interrupt__" not in final
    state = client.threads.get_state(tid)
    assert state["values"]["status"] == "resolved_by_engineer" and not state["interrupts"]
    assert state["values"]["decision"]["actor"] == "user:ana"  # who decided, from the token
    assert client.threads.get(tid)["status"] == "idle"

    # the resume through the runs API decided the escalation: it is not open any more
    esc = httpx.get(f"{api.url}/escalations/{mine[0]['id']}", headers=auth).json()
    assert esc["status"] == "decided" and esc["decided_by"] == "user:ana"
    history = client.threads.get_history(tid, limit=50)
    assert len(history) > 5 and history[0]["values"]["status"] == "resolved_by_engineer"

    # the investigate assistant: a chat turn on its own thread, over the same engagement
    invoice = next(i for i in payload["diagnosis"]["evidence_ids"] if i.startswith("in_"))
    chat = client.threads.create()["thread_id"]
    answer = client.runs.wait(chat, "investigate", input={
        "engagement": demo_engagement, "messages": [
            {"role": "user", "content": f"why is {invoice} still open?"}]},
        context={"sync": False})
    reply = answer["messages"][-1]
    assert reply["type"] == "ai" and invoice in reply["content"], reply
