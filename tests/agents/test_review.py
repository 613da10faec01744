"""The review graph on knowledge/examples/saas-seats.yaml: the violations the example was
written with, each with patterns retrieved from the index (through `search_patterns`)."""

from __future__ import annotations

import pytest

from agents.review import build_review_graph, review_tools, run_review
from agents.review.state import ReviewDeps
from core.errors import ConfigError
from knowledge.config import DEFAULT_PATTERNS_DIR
from knowledge.patterns import load_patterns
from tests.conftest import REPO
from tools.registry import default_registry

EXPECTED = {"webhook.unknown_event_2xx", "invoicing.invoice_created_2xx",
            "billing.dunning_end_state_handled", "billing.seat_updates_batched",
            "billing.retry_payment_method_subscription_default",
            "billing.proration_behavior_explicit"}


@pytest.fixture(scope="module")
def deps() -> ReviewDeps:
    patterns = load_patterns(DEFAULT_PATTERNS_DIR)
    return ReviewDeps(registry=default_registry(), patterns=patterns,
                      tools=review_tools(patterns))  # keyword index: the vector one is slow


def test_saas_seats_review_with_retrieval(deps: ReviewDeps):
    result = run_review(build_review_graph(), deps,
                        path=REPO / "knowledge" / "examples" / "saas-seats.yaml")
    assert result.report.violated_checks == EXPECTED
    assert set(result.related) == EXPECTED
    known = {p.id for p in deps.patterns}
    for v in result.report.violations:
        hits = result.related[v.check]
        assert hits and all(h["id"] in known and h["id"] not in v.patterns for h in hits)
    assert [c["name"] for c in result.tool_calls] == ["search_patterns"] * len(EXPECTED)
    assert "## Related patterns" in result.markdown
    assert result.related["billing.proration_behavior_explicit"][0]["id"] in result.markdown


def test_bad_architecture_is_a_clear_error(deps: ReviewDeps, tmp_path):  # noqa: ANN001
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nproducts: [billing]\nnot_a_field: 1\n")
    with pytest.raises(ConfigError):
        run_review(build_review_graph(), deps, path=bad)
