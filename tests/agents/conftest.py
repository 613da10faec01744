"""Agents fixtures: no real LLM or cloud call (autouse), one embedder per session, sandbox
worlds built once per session and shared by the xdist workers."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import open_pattern_index
from tests.knowledge.conftest import CachingEmbedder, socket_guard


@pytest.fixture(autouse=True)
def _no_real_llm(monkeypatch: pytest.MonkeyPatch):
    """Any connection off this machine fails the test (LLM endpoints, Stripe cloud)."""
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "FDE_MODEL"):
        monkeypatch.delenv(var, raising=False)
    with socket_guard(allow_local=True) as attempts:
        yield
    assert not attempts, f"tests tried to reach the network: {attempts}"


@pytest.fixture(scope="session")
def embedder():
    from knowledge.embedder import MiniLMEmbedder

    return CachingEmbedder(MiniLMEmbedder(threads=1))  # catalogue symptoms embedded once


@pytest.fixture(scope="session")
def shared_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory all xdist workers of this session share (the per-session base temp)."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    path = root / "agents-shared"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def world_tools(shared_tmp: Path) -> Callable[..., Any]:
    """`world_tools(bugs, seed=7, size="demo", knowledge=None)` → a ToolContext over that
    sandbox world (with `knowledge` opening the pattern index, or none).
    Each world is built once per session (a file lock shares it between workers); each
    worker keeps one context per world, so a recon run and the findings are computed once
    per worker."""
    from tests.agents.worlds import tool_context

    contexts: dict[tuple[int, str, str], Any] = {}

    def get(bugs: str, seed: int = 7, size: str = "demo",
            knowledge: Callable[[], Any] | None = None) -> Any:
        key = (seed, bugs, size)
        if key not in contexts:
            contexts[key] = tool_context(shared_tmp / "worlds", bugs, seed=seed, size=size)
        ctx = contexts[key]
        ctx.cache.pop("audit", None)
        ctx.knowledge = knowledge
        ctx.cache.pop("knowledge", None)
        return ctx

    return get


@pytest.fixture(scope="session", params=["bare", "indexed"])
def pattern_knowledge(request: pytest.FixtureRequest, embedder: Any
                      ) -> Callable[[], Any] | None:
    """A ToolContext's `knowledge`: triage and eval tests run on a fresh install (no index)
    and after `fde knowledge index` (the library indexed, `pattern_index`)."""
    if request.param == "bare":
        return None
    index = open_pattern_index(request.getfixturevalue("pattern_index"), embedder)
    return lambda: index
