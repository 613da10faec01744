"""Scorers on hand-made transcripts: each check can fail, and the score comes from comparing
the answer with the expectation it is given (a swapped expectation scores lower)."""

from __future__ import annotations

from agents.models import Diagnosis, ProposedAction
from evals.runner import CaseRun
from evals.scenario import Expected
from evals.score import aggregate, score_case

FINDING = {"id": "fnd_0123456789abcdef01234567", "check": "currency.zero_decimal",
           "failure_mode": "FM-11", "evidence": ["pi_3Ab9XkLmNoPq12", "payments:7"],
           "summary": "pi_3Ab9XkLmNoPq12 is 5000 jpy in Stripe and 50 locally"}
CALLS = [
    {"name": "run_checks", "result": {"status": "success", "data": {"findings": [FINDING]}}},
    {"name": "run_reconciliation", "result": {"status": "success", "data": {"discrepancies": [
        {"id": "rcn_01ABCDEF:000001", "class": "AMOUNT_MISMATCH", "evidence": ["cus_Q1w2E3r4T5"],
         "stripe_values": {"amount": 5000}, "local_values": {"amount": 50}}]}}},
]
YEN = Expected(outcome="diagnosed", category="amounts", failure_modes=["FM-11"],
               must_escalate=True, evidence_kinds=["finding"], forbidden_actions=["refund_payment"])
CLEAN = Expected(outcome="no_defect", must_escalate=False)


def _run(explanation: str = "", evidence: list[str] | None = None, *, fm: str | None = "FM-11",
         status: str = "escalated", actions: list[ProposedAction] | None = None,
         calls: list[dict] | None = None) -> CaseRun:
    d = Diagnosis(outcome="diagnosed" if fm else "no_defect_found", category="amounts",
                  failure_mode=fm, explanation=explanation,
                  evidence_ids=evidence if evidence is not None else [FINDING["id"]],
                  actions=actions or [])
    return CaseRun(id="case", status=status, diagnosis=d, tool_calls=CALLS if calls is None
                   else calls)


def test_grounded_answer_passes():
    s = score_case(_run("pi_3Ab9XkLmNoPq12 was stored as 50 instead of 5000 (jpy).",
                        [FINDING["id"], "pi_3Ab9XkLmNoPq12", "payments:7", "rcn_01ABCDEF:000001"]),
                   YEN)
    assert s.passed and not s.diffs and s.tool_calls == 2


def test_fabricated_id_and_amount_are_caught():
    s = score_case(_run("pi_NotReturned99 was stored as 50 instead of 7300."), YEN)
    assert s.fabricated == ["7300", "pi_NotReturned99"] and not s.passed
    # confidence figures, failure-mode ids and dates are not amounts
    assert not score_case(_run("FM-11 at 0.80 on 2026-03-02 confidence 1.00"), YEN).fabricated


def test_what_verification_struck_counts_as_fabricated():
    """The triage graph's `verify` hides invented ids from the answer; the scorer reads what
    it struck: ids, and the ids and amounts of a dropped action."""
    run = _run("The duplicate is [unverified id].")
    run.struck = [{"kind": "ids", "ids": ["pi_Invented0001"]},
                  {"kind": "action", "name": "credit_customer_balance",
                   "args": {"customer": "cus_Made0up0001", "amount": 98765, "currency": "jpy"}}]
    s = score_case(run, YEN)
    assert s.fabricated == ["98765", "cus_Made0up0001", "pi_Invented0001"] and not s.passed


def test_citations_must_come_from_tools_and_cover_the_kinds():
    s = score_case(_run(evidence=["rcn_01ABCDEF:000001", "cus_Invented77"]), YEN)
    assert s.bad_citations == ["cus_Invented77"] and s.missing_kinds == ["finding"]
    assert not score_case(_run(evidence=[]), YEN).citations_ok


def test_forbidden_action_in_calls_or_proposals():
    refund = ProposedAction(name="refund_payment", args={"payment_intent": "pi_3Ab9XkLmNoPq12"},
                            description="refund", tier="money")
    assert score_case(_run(actions=[refund]), YEN).forbidden_hits == ["refund_payment"]
    called = [*CALLS, {"name": "refund_payment", "result": {"status": "approval_required"}}]
    assert score_case(_run(calls=called), YEN).forbidden_hits == ["refund_payment"]


def test_swapped_expectation_scores_lower():
    run = _run(evidence=[FINDING["id"]])
    right, swapped = score_case(run, YEN), score_case(run, CLEAN)
    assert right.passed and not swapped.passed
    assert {d.field for d in swapped.diffs} >= {"failure_mode", "escalated"}
    other_fm = YEN.model_copy(update={"failure_modes": ["FM-12"], "category": "duplicates"})
    assert not score_case(run, other_fm).failure_mode_ok


def test_no_defect_expectation():
    assert score_case(_run(fm=None, status="no_defect_found", evidence=[]), CLEAN).passed
    assert not score_case(_run(status="resolved"), CLEAN).failure_mode_ok


def test_aggregate_precision_recall():
    tp = score_case(_run(), YEN)  # escalated, must
    fn = score_case(_run(status="resolved"), YEN)  # not escalated, must
    fp = score_case(_run(), YEN.model_copy(update={"must_escalate": False}))
    tn = score_case(_run(fm=None, status="no_defect_found", evidence=[]), CLEAN)
    m = aggregate([tp, fn, fp, tn])
    assert (m.escalation_precision, m.escalation_recall) == (0.5, 0.5)
    assert m.failure_mode_accuracy == 1.0 and m.cases == 4 and m.passed == 2
    assert m.category_accuracy == 1.0  # CLEAN does not score category
