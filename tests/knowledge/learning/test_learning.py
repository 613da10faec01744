"""The learning loop: a confirmed lesson becomes a draft; only approval publishes it, and what
is published loads in the library it was written for."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from cli import context
from cli.main import app
from core import audit
from core.errors import ConfigError
from core.settings import load_settings
from core.storage import Database, open_database
from evals.scenario import load_scenario
from knowledge.learning import Lesson, approve_draft, list_drafts, propose, reject_draft
from knowledge.patterns import load_patterns

LESSON = Lesson(
    source="escalation:esc_42", engagement="kaisha", failure_mode="FM-17", category="lpm",
    title="Konbini vouchers expire while the order stays reserved",
    ticket="Customer paid at the konbini? Order still pending after 4 days.",
    explanation="The handler ignores payment_intent.payment_failed for expired vouchers.",
    cause="Vouchers expire silently from the app's point of view.",
    fix="Release the reservation on payment_failed for konbini.",
    systemic_fix="Handle voucher expiry events for every voucher method.",
    evidence_ids=["pi_3Kx", "evt_1Ab"], products=["lpm", "checkout"], decided_by="eng:yuki")


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = open_database(load_settings(database_url=f"sqlite:///{tmp_path / 'app.db'}"))
    yield database
    database.dispose()


def test_pattern_draft_published_only_on_approval(db: Database, tmp_path: Path) -> None:
    library = tmp_path / "patterns"
    with db.session() as s:
        draft = propose(s, "pattern", LESSON, actor="cli:test")
        assert propose(s, "pattern", LESSON, actor="cli:test").id == draft.id  # one per source
    assert draft.status == "draft" and not library.exists()
    assert "`pi_3Kx`" in draft.body and "failure_modes:\n- FM-17" in draft.body
    with db.session() as s:
        done = approve_draft(s, draft.id, approver="eng:ana", library=library)
    assert done.status == "approved" and done.decided_by == "eng:ana"
    [pattern] = load_patterns(library)
    assert pattern.failure_modes == ["FM-17"] and pattern.products == ["checkout", "lpm"]
    with db.session() as s, pytest.raises(ConfigError, match="already approved"):
        approve_draft(s, draft.id, approver="eng:ana", library=library)
    with db.session() as s:
        actions = [e.action for e in audit.entries(s)]
    assert actions.count("learning.propose") == 1 and actions.count("learning.approve") == 1


def test_scenario_and_check_drafts(db: Database, tmp_path: Path) -> None:
    with db.session() as s:
        scenario = propose(s, "scenario", LESSON, actor="cli:test")
        check = propose(s, "check", LESSON, actor="cli:test")
        approve_draft(s, scenario.id, approver="eng:ana", library=tmp_path / "scenarios")
        rejected = reject_draft(s, check.id, approver="eng:ana", reason="covered by FM-17 check")
    loaded = load_scenario(tmp_path / "scenarios" / scenario.file_name)
    assert loaded.world.bugs == ["FM-17"] and loaded.expected.failure_modes == ["FM-17"]
    assert loaded.area == "lpm"
    assert rejected.status == "rejected" and rejected.published_to is None
    assert "raise NotImplementedError" in check.body  # a stub says it is one
    with db.session() as s:
        assert [d.status for d in list_drafts(s)] == ["approved", "rejected"]


def test_pattern_draft_needs_a_failure_mode(db: Database) -> None:
    with db.session() as s, pytest.raises(ConfigError, match="needs the failure mode"):
        propose(s, "pattern", LESSON.model_copy(update={"failure_mode": None}), actor="t")


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch):
    """The CLI in-process (one import), with the per-process settings cache reset."""
    context.settings.cache_clear()
    context.database.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args), catch_exceptions=True)
    context.database().dispose()
    context.settings.cache_clear()
    context.database.cache_clear()


def test_cli_propose_from_a_resolved_escalation_and_approve(
        tmp_path: Path, run, monkeypatch: pytest.MonkeyPatch) -> None:
    db_url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("FDE_DATABASE_URL", db_url)
    database = open_database(load_settings(database_url=db_url))
    with database.session() as s:
        for esc_id, status, by in (("esc_open", "pending", None), ("esc_done", "resolved",
                                                                   "eng:yuki")):
            s.execute(text(
                "INSERT INTO api_escalations (id, thread_id, run_id, interrupt_id, assistant_id,"
                " engagement, severity, product, money_tier, summary, payload, status,"
                " approvals, decided_by, created_at) VALUES (:id, 't', 'r', :id, 'triage',"
                " 'kaisha', 'high', 'lpm', 0, 'voucher expired', :p, :st, '[]', :by, :at)"),
                {"id": esc_id, "st": status, "by": by, "at": datetime.now(UTC),
                 "p": json.dumps({"diagnosis": LESSON.model_dump()})})
    database.dispose()
    still_open = run("learn", "propose", "--kind", "pattern", "--escalation", "esc_open")
    assert isinstance(still_open.exception, ConfigError)
    assert "not resolved" in str(still_open.exception)
    made = run("learn", "propose", "--kind", "pattern", "--escalation", "esc_done")
    assert made.exit_code == 0, made.output
    draft_id = made.output.split()[1]
    library = tmp_path / "lib"
    assert not library.exists()
    approved = run("learn", "approve", draft_id, "--approver", "eng:ana", "--library",
                   str(library))
    assert approved.exit_code == 0, approved.output
    assert [p.failure_modes for p in load_patterns(library)] == [["FM-17"]]


def test_a_lessons_ticket_is_redacted_before_any_draft_stores_it(db: Database) -> None:
    """`fde learn propose --ticket` passes the user's words as typed (issue 19.3)."""
    typed = ("sk_live_" + "Q7w" * 8 + " leaked; write to jane.doe@example.com, card "
             "4242 4242 4242 4242")
    lesson = Lesson.model_validate({**LESSON.model_dump(), "source": "escalation:esc_43",
                                    "ticket": typed})
    assert lesson.ticket == "sk_live_…wQ7w leaked; write to <email>, card <card>"
    with db.session() as s:
        draft = propose(s, "scenario", lesson, actor="cli:test")
    assert "jane.doe" not in draft.body and "Q7wQ7wQ7w" not in draft.body
