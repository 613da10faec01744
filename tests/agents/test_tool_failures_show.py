"""A tool that fails while an agent drafts or reviews is named in what the agent returns:
an empty "related patterns" list must never be the only trace of a failed search."""

from __future__ import annotations

import pytest

from agents.design import build_design_graph, design_deps, run_design
from agents.review import build_review_graph, run_review
from agents.review.state import ReviewDeps
from core.errors import ConfigError
from knowledge.config import DEFAULT_PATTERNS_DIR
from knowledge.patterns import load_patterns
from tests.conftest import REPO
from tools.design.requirements import load_requirements
from tools.envelope import ToolContext
from tools.registry import default_registry

INTAKE = REPO / "agents" / "design" / "examples" / "eu-saas-sepa-vat.yaml"


def _broken_index():
    raise ConfigError("the pattern index is unreadable", hint="run `fde knowledge index`")


@pytest.fixture(scope="module")
def patterns():
    return load_patterns(DEFAULT_PATTERNS_DIR)


def test_design_retrieval_asks_within_the_search_tools_limit(patterns):
    result = run_design(build_design_graph(), design_deps(patterns), load_requirements(INTAKE))
    [call] = result.tool_calls
    assert call["result"]["status"] == "success", call["result"]
    assert result.draft.tool_errors == []
    assert result.draft.related_patterns  # the notes find patterns the rules did not pick


def test_a_failed_search_is_named_in_the_design_draft(patterns):
    result = run_design(build_design_graph(), design_deps(patterns, knowledge=_broken_index),
                        load_requirements(INTAKE))
    assert result.draft.related_patterns == []
    [failure] = result.draft.tool_errors
    assert "search_patterns failed: the pattern index is unreadable" in failure
    assert "fde knowledge index" in failure


def test_a_failed_search_is_named_in_the_review_report(patterns):
    deps = ReviewDeps(registry=default_registry(), patterns=patterns,
                      tools=ToolContext(engagement="review", knowledge=_broken_index))
    result = run_review(build_review_graph(), deps,
                        path=REPO / "knowledge" / "examples" / "saas-seats.yaml")
    assert "## Incomplete: tools that failed" in result.markdown
    assert "search_patterns failed: the pattern index is unreadable" in result.markdown
