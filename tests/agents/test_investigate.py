"""The investigate graph with the scripted fake model (and the offline chat planner): tool
call → streamed answer, step budget, compaction keeping ids, money tool → interrupt."""

from __future__ import annotations

import json

import pytest
from langchain_core.messages import SystemMessage
from langgraph.checkpoint.memory import InMemorySaver

from agents.investigate import ask, build_investigate_graph, resume_chat
from agents.investigate.state import InvestigateDeps
from agents.planners.base import LLMConfig
from agents.planners.chat import LLMChatPlanner, OfflineChatPlanner
from core.errors import ConfigError
from tests.agents.fake_llm import ScriptedModel, text_turn, tool_turn
from tools.envelope import ToolContext, no_data, success
from tools.registry import Registry, ToolSpec
from tools.toolkit import ChecksArgs, GetObjectArgs, ReconArgs, RefundArgs

FINDING = {"id": "fnd_Open0000001", "check": "webhook.invoice_paid_ignored",
           "failure_mode": "FM-15", "severity": "high", "products": ["billing"],
           "evidence": ["in_Open0000001"], "summary": "invoice paid in Stripe, open locally",
           "fix": "", "systemic_fix": "", "pattern_refs": []}


def _registry(refunds: list[str]) -> Registry:
    def get(ctx, args):  # noqa: ANN001, ANN202
        return success({"id": args.object_id, "type": "payment_intent", "source": "stripe",
                        "data": {"status": "succeeded", "amount": 4200}},
                       evidence_ids=[args.object_id])

    def checks(ctx, args):  # noqa: ANN001, ANN202
        return success({"matching": 1, "findings": [FINDING]},
                       evidence_ids=["fnd_Open0000001", "in_Open0000001"])

    def recon(ctx, args):  # noqa: ANN001, ANN202
        return no_data("no discrepancy matches the filter")

    def refund(ctx, args):  # noqa: ANN001, ANN202
        refunds.append(args.payment_intent)
        return success({"id": "re_Done00000001"}, evidence_ids=["re_Done00000001"])

    return Registry([ToolSpec("get_stripe_object", get, GetObjectArgs),
                     ToolSpec("run_checks", checks, ChecksArgs),
                     ToolSpec("run_reconciliation", recon, ReconArgs),
                     ToolSpec("refund_payment", refund, RefundArgs, tier="money")])


def _deps(model: ScriptedModel | None, refunds: list[str], tokens: list[str], **kw):  # noqa: ANN003, ANN202
    planner = OfflineChatPlanner() if model is None else LLMChatPlanner(
        LLMConfig(api_key="sk-fake", base_url="http://fake.invalid/v1", model="fake"),
        http_client=model.client())
    return InvestigateDeps(planner=planner, registry=_registry(refunds),
                           tools=ToolContext(engagement="acme"),
                           emit=lambda k, p: tokens.append(p["text"]) if k == "token" else None,
                           **kw)


def test_tool_call_then_streamed_answer_and_hypotheses():
    model = ScriptedModel([tool_turn(("get_stripe_object", '{"object_id": "pi_Seen0000001"}'),
                                     ("run_checks", "{}")),
                           text_turn("pi_Seen0000001 succeeded; fnd_Open0000001 explains it.")])
    tokens: list[str] = []
    graph = build_investigate_graph(InMemorySaver())
    turn = ask(graph, _deps(model, [], tokens), thread_id="t1", engagement="acme",
               message="what happened to pi_Seen0000001? mail jane@example.com")
    assert turn.answer.startswith("pi_Seen0000001 succeeded") and "".join(tokens) == turn.answer
    assert {"pi_Seen0000001", "fnd_Open0000001", "in_Open0000001"} <= set(turn.evidence_ids)
    assert turn.hypotheses[0]["failure_mode"] == "FM-15"
    assert "in_Open0000001" in turn.hypotheses[0]["evidence_ids"]
    assert "jane@example.com" not in json.dumps(model.requests)
    tools = {t["function"]["name"]: t["function"]["description"]
             for t in model.requests[0]["tools"]}
    assert tools["refund_payment"].startswith("[money]")


def test_step_budget_reached_then_answers():
    loop = [tool_turn(("get_stripe_object", '{"object_id": "pi_Seen0000001"}'))] * 3
    model = ScriptedModel([*loop, text_turn("from what I have: pi_Seen0000001 succeeded")])
    graph = build_investigate_graph(InMemorySaver())
    turn = ask(graph, _deps(model, [], [], max_steps=2), thread_id="t1", engagement="acme",
               message="dig into pi_Seen0000001")
    assert turn.answer == "from what I have: pi_Seen0000001 succeeded"
    last = model.requests[-1]
    assert "tools" not in last and "step budget" in json.dumps(last["messages"])
    ran = [m for m in last["messages"] if m["role"] == "tool" and "succeeded" in m["content"]]
    assert len(ran) == 2


def test_compaction_keeps_evidence_ids():
    turns = []
    for n in range(3):
        turns += [tool_turn(("get_stripe_object", f'{{"object_id": "pi_Turn{n}000001"}}')),
                  text_turn(f"pi_Turn{n}000001 succeeded " + "x" * 300)]
    model = ScriptedModel(turns)
    graph = build_investigate_graph(InMemorySaver())
    deps = _deps(model, [], [], history_budget=1000, keep_turns=1)
    for n in range(3):
        ask(graph, deps, thread_id="t1", engagement="acme", message=f"look at pi_Turn{n}000001")
    messages = graph.get_state({"configurable": {"thread_id": "t1"}}).values["messages"]
    assert isinstance(messages[0], SystemMessage)
    assert "pi_Turn0000001" in messages[0].content and "pi_Turn1000001" in messages[0].content
    assert len(messages) < 12
    sent = json.dumps(model.requests[-1]["messages"])
    assert "Summary of the earlier conversation" in sent and "pi_Turn0000001" in sent


def test_money_tool_interrupts_and_runs_once_after_approval():
    model = ScriptedModel([tool_turn(("refund_payment", '{"payment_intent": "pi_Seen0000001"}')),
                           text_turn("refunded: re_Done00000001")])
    refunds: list[str] = []
    graph = build_investigate_graph(InMemorySaver())
    deps = _deps(model, refunds, [])
    turn = ask(graph, deps, thread_id="t1", engagement="acme", message="refund pi_Seen0000001")
    assert turn.interrupt is not None and refunds == []
    payload = turn.interrupt["value"]
    assert payload["action_requests"][0]["name"] == "refund_payment"
    assert payload["review_configs"][0]["allowed_decisions"][0] == "approve"
    with pytest.raises(ConfigError, match="waiting"):
        ask(graph, deps, thread_id="t1", engagement="acme", message="hello?")
    with pytest.raises(ConfigError, match="not pending"):
        resume_chat(graph, deps, thread_id="t1", interrupt_id="nope",
                    decision={"type": "approve"})
    done = resume_chat(graph, deps, thread_id="t1", interrupt_id=turn.interrupt["id"],
                       decision={"type": "approve", "action": "refund_payment"})
    assert refunds == ["pi_Seen0000001"] and done.answer == "refunded: re_Done00000001"
    assert done.executed[0]["name"] == "refund_payment"


def test_money_tool_rejected_never_runs():
    model = ScriptedModel([tool_turn(("refund_payment", '{"payment_intent": "pi_Seen0000001"}')),
                           text_turn("ok, no refund")])
    refunds: list[str] = []
    graph = build_investigate_graph(InMemorySaver())
    deps = _deps(model, refunds, [])
    turn = ask(graph, deps, thread_id="t1", engagement="acme", message="refund it")
    done = resume_chat(graph, deps, thread_id="t1", interrupt_id=turn.interrupt["id"],
                       decision={"type": "reject", "message": "not without the customer"})
    assert refunds == [] and done.answer == "ok, no refund"
    assert "not without the customer" in json.dumps(model.requests[-1]["messages"])


def test_offline_planner_answers_from_templates_over_tool_outputs():
    tokens: list[str] = []
    graph = build_investigate_graph(InMemorySaver())
    turn = ask(graph, _deps(None, [], tokens), thread_id="t1", engagement="acme",
               message="why is pi_Seen0000001 still open in our admin?")
    assert "payment_intent pi_Seen0000001" in turn.answer
    assert "finding fnd_Open0000001" in turn.answer and "in_Open0000001" in turn.answer
    assert "".join(tokens) == turn.answer
