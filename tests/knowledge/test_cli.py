"""`fde knowledge index|search|review` through Typer, as a user runs them."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import knowledge as knowledge_cli
from knowledge.config import PACKAGE_DIR
from knowledge.patterns import Pattern

runner = CliRunner()


@pytest.fixture
def small_library(tmp_path: Path, patterns: list[Pattern]) -> Path:
    library = tmp_path / "lib"
    library.mkdir()
    for p in patterns:
        if p.id.startswith(("idempotency", "webhook-signature", "connect-")):
            (library / Path(p.path).name).write_text(Path(p.path).read_text())
    return library


def test_index_then_search(small_library: Path, monkeypatch: pytest.MonkeyPatch,
                           embedder: object) -> None:
    monkeypatch.setenv("FDE_PATTERNS_DIR", str(small_library))
    monkeypatch.delenv("FDE_CHROMA_URL", raising=False)
    monkeypatch.setattr("knowledge.index.MiniLMEmbedder", lambda *a, **k: embedder)
    result = runner.invoke(knowledge_cli.app, ["index"])
    assert result.exit_code == 0, result.output
    assert "5 added" in result.output
    result = runner.invoke(knowledge_cli.app, ["search", "charged twice after a timeout",
                                               "--json"])
    assert result.exit_code == 0, result.output
    assert '"idempotency-keys"' in result.output
    result = runner.invoke(knowledge_cli.app, ["search", "header", "--product", "connect"])
    assert result.exit_code == 0 and "connect-" in result.output
    result = runner.invoke(knowledge_cli.app, ["search", "x", "--product", "nope"])
    assert result.exit_code != 0


def test_review_writes_markdown_and_html(tmp_path: Path) -> None:
    example = PACKAGE_DIR / "examples" / "saas-seats.yaml"
    md, page = tmp_path / "review.md", tmp_path / "review.html"
    assert runner.invoke(knowledge_cli.app, ["review", str(example), "--out", str(md)]
                         ).exit_code == 0
    assert "billing.seat_updates_batched" in md.read_text()
    result = runner.invoke(knowledge_cli.app, ["review", str(example), "--out", str(page)])
    assert result.exit_code == 0 and page.read_text().startswith("<!doctype html>")
    # critical violations make the command fail, so CI can gate on it
    marketplace = PACKAGE_DIR / "examples" / "marketplace-connect.yaml"
    assert runner.invoke(knowledge_cli.app, ["review", str(marketplace)]).exit_code == 1
