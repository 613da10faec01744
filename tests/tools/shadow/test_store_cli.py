"""Stored runs (SQLite and PostgreSQL through the migrations) and the `fde shadow` CLI."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from cli.main import app
from core.settings import Settings
from core.storage import open_database
from tools.shadow import store
from tools.shadow.errors import ShadowRunNotFound
from tools.shadow.models import Mismatch, RunInfo, ShadowRun, Verdict


@pytest.fixture(autouse=True)
def _fresh_cli_context():
    from cli import context

    context.settings.cache_clear()
    context.database.cache_clear()
    yield
    context.settings.cache_clear()
    context.database.cache_clear()


def _run(run_id: str, engagement: str, verdict: Verdict) -> ShadowRun:
    info = RunInfo(id=run_id, mode="webhook_replay", engagement=engagement, primary="v1",
                   candidate="v2", corpus_hash="sha256:ab", fault_seed=4,
                   started_at=datetime.now(UTC))
    mismatch = Mismatch(kind="invariant", invariant="one_fulfilment",
                        event_type="payment_intent.succeeded", detail="2 grants",
                        amount_minor=15000, currency="jpy", repro="fde shadow run …")
    return ShadowRun(run=info, verdict=verdict, mismatches=[mismatch],
                     top_mismatches=[mismatch])


def test_store_round_trip(database_url: str) -> None:
    db = open_database(Settings(database_url=database_url))
    try:
        with db.session() as session:
            store.save_run(session, _run("shd_1", "acme", Verdict.FAIL))
            store.save_run(session, _run("shd_2", "other", Verdict.PASS))
        with db.session() as session:
            got = store.get_run(session, "shd_1")
            assert got.verdict is Verdict.FAIL and got.mismatches[0].amount_minor == 15000
            assert [r.id for r in store.list_runs(session, engagement="acme")] == ["shd_1"]
            assert {r.id for r in store.list_runs(session)} == {"shd_1", "shd_2"}
            with pytest.raises(ShadowRunNotFound):
                store.get_run(session, "shd_missing")
    finally:
        db.dispose()


def test_cli_run_then_show(corpus_path, serve_handler, monkeypatch, tmp_path) -> None:
    from tests.tools.shadow.conftest import MAPPING_PATH, SECRET

    monkeypatch.setenv("FDE_SHADOW_WEBHOOK_SECRET", SECRET)
    runner = CliRunner()
    with serve_handler("v1") as v1, serve_handler("v2", bugs="FM-11") as v2:
        result = runner.invoke(app, [
            "shadow", "run", "--corpus", str(corpus_path),
            "--primary", f"v1={v1.url}", "--candidate", f"v2={v2.url}",
            "--primary-state", str(v1.user.engine.url),
            "--candidate-state", str(v2.user.engine.url),
            "--mapping", str(MAPPING_PATH), "--only", "clean", "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert "FAIL" in result.output and "amounts_exact" in result.output
    assert "repro: fde shadow run --corpus" in result.output
    run_id = result.output.split("run ", 1)[1].split(":", 1)[0]
    html = (tmp_path / "r" / "report.html").read_text()
    assert "<script" not in html and "http" not in html.split("<body>")[0]
    shown = runner.invoke(app, ["shadow", "show", run_id])
    assert shown.exit_code == 0 and f"Shadow run {run_id} — FAIL" in shown.output
    listed = runner.invoke(app, ["shadow", "list"])
    assert run_id in listed.output


def test_cli_bad_target_names_the_problem(corpus_path, monkeypatch) -> None:
    monkeypatch.setenv("FDE_SHADOW_WEBHOOK_SECRET", "whsec_x")
    result = CliRunner().invoke(app, [
        "shadow", "run", "--corpus", str(corpus_path), "--primary", "nourl",
        "--candidate", "v2=http://127.0.0.1:9/x", "--primary-state", "sqlite:///x.db",
        "--candidate-state", "sqlite:///y.db", "--mapping", "m.yaml"])
    assert result.exit_code != 0
    assert isinstance(result.exception, Exception) and "NAME=URL" in str(result.exception)


def test_cli_run_reads_the_declared_invariants_file(corpus_path, monkeypatch, tmp_path) -> None:
    """`--invariants FILE` reaches the engine: a bad file is named before any delivery."""
    monkeypatch.setenv("FDE_SHADOW_WEBHOOK_SECRET", "whsec_x")
    bad = tmp_path / "inv.yaml"
    bad.write_text("invariants:\n  - id: x\n    object: charge\n")
    result = CliRunner().invoke(app, [
        "shadow", "run", "--corpus", str(corpus_path), "--invariants", str(bad),
        "--primary", "http://127.0.0.1:9/a", "--primary-state", f"sqlite:///{tmp_path}/a.db",
        "--candidate", "http://127.0.0.1:9/b", "--candidate-state", f"sqlite:///{tmp_path}/b.db",
        "--only", "clean", "--no-progress"])
    assert result.exit_code != 0
    assert "inv.yaml" in str(result.exception) and "entity" in str(result.exception)
