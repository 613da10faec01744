"""Evals fixtures: the agents' no-network guard, shared embedder and shared world builds
(the same directory as tests/agents, so a world is built once per session for both)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agents.conftest import (  # noqa: F401
    _no_real_llm,
    embedder,
    pattern_knowledge,
    shared_tmp,
)


@pytest.fixture(scope="session")
def eval_worlds(shared_tmp: Path, pattern_knowledge):  # noqa: F811, ANN001
    """The shared worlds, without the pattern index and with it built (every eval test
    runs both ways)."""
    from evals.worlds import WorldCache

    return WorldCache(shared_tmp / "worlds", knowledge=pattern_knowledge)


@pytest.fixture(scope="session")
def offline(embedder):  # noqa: F811
    """A planner factory: one offline planner (and one MiniLM) for the session."""
    from agents.planners.offline import OfflinePlanner

    planner = OfflinePlanner(embedder=embedder)
    return lambda: planner
