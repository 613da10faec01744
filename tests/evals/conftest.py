"""Evals fixtures: the agents' no-network guard, shared embedder and shared world builds
(the same directory as tests/agents, so a world is built once per session for both)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agents.conftest import _no_real_llm, embedder, shared_tmp  # noqa: F401


@pytest.fixture(scope="session")
def eval_worlds(shared_tmp: Path):  # noqa: F811
    from evals.worlds import WorldCache

    return WorldCache(shared_tmp / "worlds")


@pytest.fixture(scope="session")
def offline(embedder):  # noqa: F811
    """A planner factory: one offline planner (and one MiniLM) for the session."""
    from agents.planners.offline import OfflinePlanner

    planner = OfflinePlanner(embedder=embedder)
    return lambda: planner
