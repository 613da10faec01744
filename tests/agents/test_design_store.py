"""Design drafts stored on SQLite and PostgreSQL: draft → approved with the approver and an
audit entry per change; an approved design is frozen."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.design import build_design_graph, design_deps, run_design
from core import audit
from core.errors import ConfigError, NotFoundError
from core.settings import load_settings
from core.storage import open_database
from knowledge.config import load_knowledge_settings
from knowledge.patterns import load_patterns
from tools.design import store
from tools.design.draft import OpenQuestion
from tools.design.requirements import load_requirements

EXAMPLE = (Path(__file__).resolve().parents[2] / "agents" / "design" / "examples"
           / "us-marketplace-connect.yaml")


def test_draft_edit_approve_with_audit(database_url: str):
    db = open_database(load_settings(database_url=database_url))
    try:
        patterns = load_patterns(load_knowledge_settings().patterns_dir)
        deps = design_deps(patterns, db=db, engagement="acme", actor="cli:alice")
        result = run_design(build_design_graph(), deps, load_requirements(EXAMPLE))
        assert result.design_id
        with db.session() as session:
            stored = store.get(session, result.design_id)
            assert stored.status == "draft" and stored.created_by == "cli:alice"
            assert stored.draft == result.draft
            edited = stored.draft.model_copy(deep=True)
            edited.recommendations = [r for r in edited.recommendations
                                      if r.ref != "disputes-handling"]
            store.edit(session, stored.id, edited, actor="cli:bob")
            edited.open_questions.append(OpenQuestion(
                question="Who pays Connect fees in BR?", because=["countries[US]"]))
            store.edit(session, stored.id, edited, actor="cli:bob")
        with db.session() as session:  # an open question is never approved over silently
            with pytest.raises(ConfigError, match="1 open question.*Connect fees") as err:
                store.approve(session, result.design_id, actor="cli:carol")
            assert "--accept-open-questions" in err.value.hint
        with db.session() as session:
            approved = store.approve(session, result.design_id, actor="cli:carol",
                                     accept_open_questions=True)
        assert approved.status == "approved" and approved.approved_by == "cli:carol"
        assert "disputes-handling" not in approved.draft.refs("pattern")
        with db.session() as session:
            trail = [(e.action, e.actor) for e in audit.entries(session, target=approved.id)]
            assert trail == [("design.approve", "cli:carol"), ("design.edit", "cli:bob"),
                             ("design.edit", "cli:bob"), ("design.draft", "cli:alice")]
            entry = audit.entries(session, target=approved.id)[0]  # newest first
            assert entry.details["accepted_open_questions"] == ["Who pays Connect fees in BR?"]
            with pytest.raises(ConfigError, match="approved by cli:carol"):
                store.edit(session, approved.id, approved.draft, actor="cli:bob")
            with pytest.raises(NotFoundError):
                store.get(session, "dsg_missing")
            assert [d.id for d in store.list_designs(session, "acme")] == [approved.id]
    finally:
        db.dispose()
