"""LLM mode with a scripted model: the runner scores tool-calling transcripts (tool calls,
streamed tokens, fabrication, including ids the graph struck) without a key or a network."""

from __future__ import annotations

import json

from agents.planners.base import LLMConfig
from agents.planners.llm import LLMPlanner
from evals.scenario import SCENARIOS_DIR, load_scenario
from evals.suite import run_suite
from tests.agents.fake_llm import ScriptedModel, text_turn, tool_turn


class CitingModel(ScriptedModel):
    """Calls run_checks, then answers FM-11 citing the first finding the tool returned (and,
    if asked, an amount no tool returned)."""

    def __init__(self, *, invent: str = "", invent_id: str = "") -> None:
        super().__init__([tool_turn(("run_checks", '{"failure_mode": "FM-11", "limit": 5}'))])
        self.invent, self.invent_id = invent, invent_id

    def handler(self, request):  # noqa: ANN001, ANN201
        body = json.loads(request.content)
        if not self.turns:
            tool_msgs = [m["content"] for m in body["messages"] if m["role"] == "tool"]
            finding = json.loads(tool_msgs[-1])["data"]["findings"][0]
            self.turns.append(text_turn(json.dumps({
                "outcome": "diagnosed", "category": "amounts", "failure_mode": "FM-11",
                "title": "zero-decimal amounts", "needs_judgment": True,
                "judgment_why": "refund or credit the difference",
                "explanation": f"{finding['summary']} {self.invent} {self.invent_id}".strip(),
                "evidence_ids": [finding["id"], *filter(None, [self.invent_id])]})))
        return super().handler(request)


def _suite(model: CitingModel, eval_worlds):  # noqa: ANN001, ANN202
    scenario = load_scenario(SCENARIOS_DIR / "payments-yen-too-small.yaml")
    config = LLMConfig(api_key="sk-test-fake", base_url="http://llm.invalid/v1")
    return run_suite([scenario], worlds=eval_worlds,
                     planner=lambda: LLMPlanner(config, http_client=model.client()))


def test_llm_transcript_is_scored(eval_worlds):
    report = _suite(CitingModel(), eval_worlds)
    case = report.cases[0]
    assert report.planner == "llm" and case.failure_mode == "FM-11"
    assert case.score.tool_calls == 1 and case.score.tokens > 0
    assert report.metrics.tokens_total == case.score.tokens
    assert case.status == "escalated" and not case.score.fabricated and case.passed


def test_llm_invented_amount_is_a_fabrication(eval_worlds):
    report = _suite(CitingModel(invent="The customer was overcharged 987654 jpy."),
                    eval_worlds)
    case = report.cases[0]
    assert case.score.fabricated == ["987654"] and not case.passed
    assert report.metrics.fabricated_items == 1


def test_llm_invented_id_is_a_fabrication_though_verification_struck_it(eval_worlds):
    report = _suite(CitingModel(invent_id="pi_Invented0001"), eval_worlds)
    case = report.cases[0]
    assert "[unverified id]" in case.explanation  # the graph hid it from the engineer ...
    assert "pi_Invented0001" in case.score.fabricated and not case.passed  # ... not the score
    assert report.metrics.fabricated_items >= 1 and report.metrics.fabricated_cases == 1
