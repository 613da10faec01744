"""The workspace room on SQLite and PostgreSQL: the decision log (supersede, accept, ADRs),
notes and contacts, search, review items tracked to resolution, audit, and bad input."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core import audit
from core.errors import EngagementNotFound
from core.storage import Database
from tests.tools.workspace.helpers import database_with
from tools.workspace import export_adrs, reviews, search, store, timeline
from tools.workspace.errors import WorkspaceInputError, WorkspaceNotFound, WorkspaceStateError
from tools.workspace.models import ContactCreate, DecisionCreate, NoteCreate, ReviewViolation

SEPA = DecisionCreate(
    title="Collect EU subscriptions by SEPA Direct Debit",
    context="EU customers churn at card expiry; invoices are mostly EUR.",
    decision="Offer SEPA Direct Debit on EUR invoices; grant access on invoice.paid only.",
    alternatives=["cards only", "bank transfers with manual matching"],
    consequences="Payments settle up to 5 business days later; dunning must wait for it.",
    evidence=["fnd_01TEST", "https://docs.stripe.com/payments/sepa-debit"],
    decided_by=["Ana Ruiz (CFO)", "engineer:kim"])


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = database_with(database_url, "acme", "other")
    yield database
    database.dispose()


def test_a_decision_is_logged_superseded_accepted_audited_and_exported(db: Database,
                                                                      tmp_path: Path):
    with db.session() as s:
        first = store.add_decision(s, "acme", SEPA, actor="cli:kim")
        other = store.add_decision(s, "other", SEPA, actor="cli:kim")
    assert (first.number, other.number, first.status) == (1, 1, "proposed")  # per engagement
    with db.session() as s:
        second = store.add_decision(s, "acme", SEPA.model_copy(update={
            "title": "Collect EU subscriptions by SEPA and cards", "supersedes": 1,
            "decided_by": []}), actor="cli:kim")
        assert second.decided_by == ["cli:kim"]  # the recording actor when nobody is named
        # a proposal supersedes nothing until it is accepted
        assert store.get_decision(s, "acme", 1).status == "proposed"
        accepted = store.accept_decision(s, "acme", 2, actor="cli:lee")
    assert (accepted.status, accepted.accepted_by) == ("accepted", "cli:lee")
    with db.session() as s:
        old = store.get_decision(s, "acme", 1)
        assert (old.status, old.superseded_by) == ("superseded", 2)
        with pytest.raises(WorkspaceStateError, match="superseded by decision 2") as err:
            store.accept_decision(s, "acme", 1, actor="cli:lee")
        assert "supersedes it" in err.value.hint
        with pytest.raises(WorkspaceStateError, match="already accepted by cli:lee"):
            store.accept_decision(s, "acme", 2, actor="cli:lee")
        with pytest.raises(WorkspaceStateError, match="already superseded"):
            store.add_decision(s, "acme", SEPA.model_copy(update={"supersedes": 1}),
                               actor="cli:kim")
        actions = [(e.action, e.actor) for e in audit.entries(s, limit=20)
                   if e.engagement == "acme" and e.action.startswith("workspace.")]
        entries = timeline(s, "acme")
        decisions = store.list_decisions(s, "acme")
    assert ("workspace.decision.accept", "cli:lee") in actions
    assert ("workspace.decision.supersede", "cli:lee") in actions
    assert actions.count(("workspace.decision.add", "cli:kim")) == 2
    assert [(e.kind, e.ref) for e in entries] == [
        ("decision", first.id), ("decision", second.id), ("decision_accepted", second.id)]
    assert entries[0].status == "superseded" and "Ana Ruiz (CFO)" in entries[0].actor

    files = export_adrs(decisions, tmp_path / "adr")
    names = sorted(p.name for p in (tmp_path / "adr").iterdir())
    assert names == [f.filename for f in files] == [
        "0001-collect-eu-subscriptions-by-sepa-direct-debit.md",
        "0002-collect-eu-subscriptions-by-sepa-and-cards.md"]
    one = (tmp_path / "adr" / names[0]).read_text()
    assert one.startswith("# 1. Collect EU subscriptions by SEPA Direct Debit\n")
    assert f"- Status: superseded by [ADR-0002]({names[1]})" in one
    for part in ("## Context and Problem Statement\n\nEU customers churn",
                 "## Decision Outcome\n\nOffer SEPA Direct Debit", "- cards only",
                 "- bank transfers with manual matching", "settle up to 5 business days",
                 "- fnd_01TEST", "- Deciders: Ana Ruiz (CFO), engineer:kim",
                 "(recorded by cli:kim)"):
        assert part in one, part
    two = files[1].markdown
    assert f"- Supersedes: [ADR-0001]({names[0]})" in two
    assert "- Status: accepted" in two and "by cli:lee" in two


def test_search_finds_notes_decisions_and_contacts_by_their_words(db: Database):
    with db.session() as s:
        note = store.add_note(s, "acme", NoteCreate(
            title="Billing kick-off", body="Japan launch: they want Konbini vouchers for "
            "usage invoices.", attendees=["Ana"], met_at=datetime(2026, 1, 5, tzinfo=UTC)),
            actor="cli:kim")
        decision = store.add_decision(s, "acme", SEPA, actor="cli:kim")
        contact = store.add_contact(s, "acme", ContactCreate(
            name="Ana Ruiz", role="CFO", email="ana@acme.example"), actor="cli:kim")
        store.add_note(s, "other", NoteCreate(title="Other", body="Konbini elsewhere"),
                       actor="cli:kim")
        konbini = search(s, "acme", "konbini")
        sepa = search(s, "acme", "direct debit")
        person = search(s, "acme", "CFO")
        nothing = search(s, "acme", "zebra")
        with pytest.raises(WorkspaceInputError, match="no words"):
            search(s, "acme", " ?! ")
        details = [e.details for e in audit.entries(s, target=contact.id)]
    assert [(h.kind, h.ref) for h in konbini] == [("note", note.id)]  # not the other engagement
    assert "Konbini vouchers" in konbini[0].snippet
    assert sepa[0].ref == decision.id and sepa[0].kind == "decision"
    assert {h.ref for h in person} >= {contact.id, decision.id}  # the CFO decided it too
    assert nothing == []
    assert details == [{"name": "Ana Ruiz", "role": "CFO"}]  # the e-mail stays out of audit


def test_bad_input_is_refused_with_what_to_do(db: Database):
    with db.session() as s:
        with pytest.raises(EngagementNotFound, match="'nobody'"):
            store.add_note(s, "nobody", NoteCreate(title="x", body="y"), actor="t")
        with pytest.raises(EngagementNotFound):
            timeline(s, "nobody")
        with pytest.raises(EngagementNotFound):
            search(s, "nobody", "sepa")
        with pytest.raises(WorkspaceInputError, match="the note's body is empty") as err:
            store.add_note(s, "acme", NoteCreate(title="Kick-off", body="  \n"), actor="t")
        assert err.value.hint
        with pytest.raises(WorkspaceInputError, match="decision's title is empty"):
            store.add_decision(s, "acme", SEPA.model_copy(update={"title": ""}), actor="t")
        with pytest.raises(WorkspaceInputError, match="not an e-mail address"):
            store.add_contact(s, "acme", ContactCreate(name="Ana", email="ana-at-acme"),
                              actor="t")
        with pytest.raises(WorkspaceNotFound, match="has no decision 7"):
            store.accept_decision(s, "acme", 7, actor="t")
        with pytest.raises(WorkspaceNotFound):
            store.add_decision(s, "acme", SEPA.model_copy(update={"supersedes": 9}),
                               actor="t")
    with db.session() as s:  # nothing half-written by the refusals
        assert store.list_notes(s, "acme") == [] and store.list_decisions(s, "acme") == []


def _violation(check: str, severity: str = "high") -> ReviewViolation:
    return ReviewViolation(check=check, severity=severity, item=f"{check} item",
                           evidence=[f"evidence of {check}"], patterns=["p1"],
                           recommendation="do it")


def test_review_items_are_tracked_to_resolution_across_reviews(db: Database):
    with db.session() as s:
        run, items = reviews.record_review(
            s, "acme", [_violation("webhook.a"), _violation("webhook.b", "low")],
            map_version=1, markdown="# r1", actor="cli:kim")
    a, b = items
    assert {a.status, b.status} == {"open"} and a.first_review == run.id
    with db.session() as s:
        accepted = reviews.resolve_item(s, a.id, "accepted", why="fix planned", actor="cli:kim")
        done = reviews.resolve_item(s, a.id, "resolved", why="narrowed in #412", actor="cli:lee")
        wont = reviews.resolve_item(s, b.id, "wont_fix", why="legacy endpoint", actor="cli:kim")
        with pytest.raises(WorkspaceStateError, match="already resolved"):
            reviews.resolve_item(s, a.id, "wont_fix", why="x", actor="t")
        with pytest.raises(WorkspaceInputError, match="--why"):
            reviews.resolve_item(s, b.id, "resolved", why=" ", actor="t")
        with pytest.raises(WorkspaceNotFound):
            reviews.resolve_item(s, "rvi_nope", "resolved", why="x", actor="t")
    assert accepted.status == "accepted" and (done.status, done.resolved_by, done.why) == (
        "resolved", "cli:lee", "narrowed in #412")
    assert wont.status == "wont_fix"
    with db.session() as s:  # both come back: the resolved one re-opens, wont_fix stays
        run2, again = reviews.record_review(
            s, "acme", [_violation("webhook.a"), _violation("webhook.b", "low")],
            map_version=2, markdown="# r2", actor="cli:kim")
        listed = reviews.list_items(s, "acme")
        kinds = [e.kind for e in timeline(s, "acme")]
    assert {i.check: i.status for i in again} == {"webhook.a": "open", "webhook.b": "wont_fix"}
    assert len(listed) == 2 and all(i.last_review == run2.id for i in listed)
    assert next(i for i in listed if i.check == "webhook.a").first_seen < \
        next(i for i in listed if i.check == "webhook.a").last_seen + timedelta(seconds=1)
    assert kinds == ["review", "review"]


def test_timeline_reads_cases_escalations_applies_and_shadow_runs_by_table(db: Database):
    """Rows as their own rooms write them (API queue, autopilot, blueprints, shadow), read
    back by the timeline with their times; another engagement's rows stay out."""
    from agents.autopilot.tables import cases
    from api.tables import escalations
    from tools.blueprints.state import record_item
    from tools.shadow.store import runs as shadow_runs

    t0 = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
    with db.session() as s:
        for engagement in ("acme", "other"):
            s.execute(escalations.insert().values(
                id=f"esc_{engagement}", thread_id=f"thr_{engagement}", run_id="run_1",
                interrupt_id="i1", assistant_id="triage", engagement=engagement,
                severity="high", money_tier=True, summary="refund 120.00 EUR?", payload={},
                status="decided", approvals=[], decision={"type": "reject",
                                                          "message": "customer was served"},
                decided_by="user:lee", decided_at=t0 + timedelta(hours=3), created_at=t0))
        s.execute(cases.insert().values(
            id="case_1", engagement="acme", dedupe_key="k", source="recon",
            kind="STALE_STATE", object_id="sub_1", severity="medium", status="closed",
            summary="subscription state is stale", evidence=[], item={}, seen_count=1,
            first_seen=t0 + timedelta(hours=1), last_seen=t0 + timedelta(hours=1),
            closed_at=t0 + timedelta(hours=4)))
        s.execute(shadow_runs.insert().values(
            id="shd_1", engagement="acme", mode="webhook_replay", verdict="FAIL",
            primary_name="v1", candidate_name="v2", corpus_hash="h",
            started_at=t0 + timedelta(hours=2), mismatches=3, body={}))
        record_item(s, approval="apv_1", engagement="acme", blueprint="dunning",
                    item_key="a", action="create", result={})
        record_item(s, approval="apv_1", engagement="acme", blueprint="dunning",
                    item_key="b", action="update", result={})
        entries = timeline(s, "acme")
    got = [(e.kind, e.ref, e.status) for e in entries]
    assert got == [
        ("escalation", "esc_acme", "decided"), ("case", "case_1", "closed"),
        ("shadow_run", "shd_1", "FAIL"), ("escalation_decision", "esc_acme", "decided"),
        ("case", "case_1", "closed"), ("blueprint_apply", "apv_1", "done")]
    assert entries[3].actor == "user:lee" and "reject" in entries[3].title
    assert entries[3].body == "customer was served"
    assert entries[-1].body == "2 done" and entries[-1].title == "blueprint dunning applied"


def test_a_proposal_is_rejected_or_withdrawn_and_what_it_replaced_stays(db: Database):
    with db.session() as s:
        store.add_decision(s, "acme", SEPA, actor="cli:kim")
        store.accept_decision(s, "acme", 1, actor="cli:lee")
        store.add_decision(s, "acme", SEPA.model_copy(update={"supersedes": 1}),
                           actor="cli:kim")
        store.add_decision(s, "acme", SEPA.model_copy(update={"supersedes": 1}),
                           actor="cli:kim")
        rejected = store.close_decision(s, "acme", 2, outcome="rejected",
                                        reason="cards-only churn data is from 2019",
                                        actor="cli:lee")
        with pytest.raises(WorkspaceInputError, match="why the decision is rejected"):
            store.close_decision(s, "acme", 3, outcome="rejected", reason=" ", actor="x")
        withdrawn = store.close_decision(s, "acme", 3, outcome="withdrawn",
                                         reason="superseded by the pricing review",
                                         actor="cli:kim")
        assert store.get_decision(s, "acme", 1).status == "accepted"  # still in force
        assert (rejected.status, rejected.closed_by) == ("rejected", "cli:lee")
        assert withdrawn.closed_reason == "superseded by the pricing review"
        with pytest.raises(WorkspaceStateError, match="was rejected by cli:lee"):
            store.accept_decision(s, "acme", 2, actor="cli:lee")
        with pytest.raises(WorkspaceStateError, match="only a proposed decision"):
            store.close_decision(s, "acme", 1, outcome="withdrawn", reason="x",
                                 actor="cli:kim")
        actions = [e.action for e in audit.entries(s, limit=20) if e.engagement == "acme"]
        files = export_adrs(store.list_decisions(s, "acme"))
    assert "workspace.decision.reject" in actions and "workspace.decision.withdraw" in actions
    assert "- Status: rejected by cli:lee on " in files[1].markdown
    assert "cards-only churn data is from 2019" in files[1].markdown


def test_adr_export_follows_madr(db: Database):
    madr = DecisionCreate.model_validate({**SEPA.model_dump(),
        "drivers": ["card expiry churn", "EUR invoices"],
        "alternatives": [
            {"name": "SEPA Direct Debit", "pros": ["no expiry"], "cons": ["5-day settlement"]},
            {"name": "cards only", "cons": ["churn at expiry"]}],
        "chosen": "SEPA Direct Debit", "because": "it removes expiry churn"})
    with db.session() as s:
        store.add_decision(s, "acme", madr, actor="cli:kim")
        [adr] = export_adrs(store.list_decisions(s, "acme"))
    text = adr.markdown
    order = ["## Context and Problem Statement", "## Decision Drivers\n\n- card expiry churn",
             "## Considered Options\n\n- SEPA Direct Debit\n- cards only",
             '## Decision Outcome\n\nChosen option: "SEPA Direct Debit", because it removes '
             "expiry churn", "### Consequences", "## Pros and Cons of the Options",
             "### SEPA Direct Debit\n\n- Good, because no expiry\n- Bad, because 5-day "
             "settlement", "### cards only\n\n- Bad, because churn at expiry",
             "## More Information"]
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions)
    wire = DecisionCreate.model_validate({**SEPA.model_dump(), "chosen": "wire"})
    assert [o.name for o in wire.alternatives][0] == "wire"  # the chosen one was considered
