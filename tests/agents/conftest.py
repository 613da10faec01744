"""Agents fixtures: no real LLM or cloud call (autouse), one embedder per session."""

from __future__ import annotations

import pytest

from tests.knowledge.conftest import socket_guard


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

    return MiniLMEmbedder(threads=1)
