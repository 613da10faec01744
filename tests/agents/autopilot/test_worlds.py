"""Acceptance: three sandbox engagements (different bug switches, each its own replica over
HTTP and its own company DB) under the autopilot on a compressed schedule. Every injected
defect becomes a case (scored against the world manifest, which only tests read); what the
policy allows is repaired and verified (the rule no longer fires); the rest is escalated with
its evidence and a signed notification; a policy that sneaks in a money action is refused.
"""

from __future__ import annotations

from contextlib import ExitStack

import pytest
import stripe
from langgraph.checkpoint.memory import InMemorySaver

from agents.autopilot import Autopilot, AutopilotDeps, GraphTriager, PolicyError
from agents.autopilot.cases import list_cases
from agents.autopilot.policy_store import get_policy, set_policy
from agents.planners.offline import OfflinePlanner
from core import audit
from core.secrets import secret_box
from core.settings import load_settings
from core.storage import open_database
from tests.agents.autopilot.helpers import (
    MAPPING,
    Clock,
    Receiver,
    add_engagement,
    serve_world,
)
from tools.checks.engagement import snapshot_for
from tools.recon.adapter import open_user_system
from tools.recon.mapping import load_mapping
from tools.recon.run import run_recon

pytestmark = pytest.mark.slow

FAST = "schedule: {sync: 60, map_refresh: 60, checks: 60, reconcile: 60, jitter: 0.2}\n"
POLICIES = {
    # FM-16: an invoice left open locally (STALE_STATE) — the repair is allowed.
    "alpha": FAST + "auto_repair: [{class: STALE_STATE, entities: [invoice]}]\n",
    # FM-07: double charges (DUPLICATE_REMOTE) — money: always a person.
    "bravo": FAST + "always_escalate: [DUPLICATE_REMOTE]\n",
    # FM-32: dispute rows missing (STALE_STATE, allowed) and access kept after a dispute
    # (REVERSED_AFTER_APPLICATION, never automatic).
    "charlie": FAST + "auto_repair: [{class: STALE_STATE, entities: [dispute]}]\n",
}
BUGS = {"alpha": "FM-16", "bravo": "FM-07", "charlie": "FM-32"}


def test_three_engagements_under_policy(tmp_path, embedder):
    settings = load_settings(data_dir=tmp_path / "data", stripe_rate_limit=500.0)
    db = open_database(settings)
    clock = Clock()
    with ExitStack() as stack:
        receiver = stack.enter_context(Receiver())
        worlds = {name: serve_world(stack, tmp_path, name, bugs) for name, bugs in BUGS.items()}
        for name, world in worlds.items():
            policy = POLICIES[name] + f"notify: {{webhooks: ['{receiver.url}'], sla_hours: 1}}\n"
            add_engagement(settings, db, name, api_base=world.replica.url,
                           user_url=world.user_url, policy=policy,
                           connected=world.connected())
        triager = GraphTriager(OfflinePlanner(embedder=embedder), checkpointer=InMemorySaver())
        pilot = Autopilot(AutopilotDeps(settings=settings, db=db, clock=clock,
                                        triager=triager, seed=3))

        first = pilot.run_once()
        assert first.enqueued == 12  # 3 engagements x (sync, map, checks, reconcile)
        assert {(j.kind, j.status) for j in first.jobs} == {
            ("sync", "done"), ("map_refresh", "done"), ("checks", "done"),
            ("reconcile", "done")}, [j for j in first.jobs if j.status != "done"]

        with db.session() as session:
            cases = {name: list_cases(session, engagement=name) for name in BUGS}
        for name, world in worlds.items():  # every injected defect is some case's subject
            covered = {c.object_id for c in cases[name]} | {
                e for c in cases[name] for e in c.evidence}
            assert world.affected_ids() and world.affected_ids() <= covered, name

        def by_kind(name: str, kind: str) -> list:
            return [c for c in cases[name] if c.source == "discrepancy" and c.kind == kind]

        repaired = by_kind("alpha", "STALE_STATE") + by_kind("charlie", "STALE_STATE")
        assert len(repaired) == 1 + 4  # alpha's stale invoice, charlie's missing disputes
        for case in repaired:
            assert case.status == "resolved", (case.object_id, case.escalation)
            assert case.resolution["how"] == "repaired automatically"
            assert case.resolution["verified"] is True
            assert case.triage and case.triage["thread_id"]

        escalated = by_kind("bravo", "DUPLICATE_REMOTE") + by_kind(
            "charlie", "REVERSED_AFTER_APPLICATION")
        assert len(escalated) == 2 + 3
        for case in escalated:
            assert case.status == "escalated"
            payload = case.escalation
            assert payload["evidence"] and payload["reason"]
            names = [a["name"] for a in payload["action_requests"]]
            assert "close_case" in names
            assert {c["action_name"] for c in payload["review_configs"]} == set(names)
        dup = by_kind("bravo", "DUPLICATE_REMOTE")[0]
        assert "always escalates" in dup.escalation["reason"]
        assert dup.escalation["money_minor"] is None or dup.escalation["currency"]
        # nothing the policy does not allow was repaired: no repair audit on bravo, and no
        # finding case was closed by the autopilot without a check run saying so
        with db.session() as session:
            repairs = [e for e in audit.entries(session, limit=1000)
                       if e.action.startswith("recon.repair")]
        assert {(e.engagement, e.action) for e in repairs} == {
            ("alpha", "recon.repair.applied"), ("charlie", "recon.repair.applied")}
        assert sum(e.action == "recon.repair.applied" for e in repairs) == 5

        # the same defects seen again next tick join their cases (no duplicates)
        clock.advance(60)
        second = pilot.run_once()
        assert second.enqueued == 12 and all(j.status == "done" for j in second.jobs)
        with db.session() as session:
            again = {name: list_cases(session, engagement=name) for name in BUGS}
        for name in BUGS:
            assert {c.id for c in again[name]} == {c.id for c in cases[name]}
        assert all(c.seen_count == 2 for c in again["bravo"] if c.status == "escalated")
        assert all(c.status == "resolved" for c in again["alpha"] + again["charlie"]
                   if c.id in {r.id for r in repaired})

        # notifications: one signed "escalation created" per case ever escalated (some
        # finding cases closed since: their check stopped firing after the repairs)
        created = [b for b, _ in receiver.received if b"escalation_created" in b]
        ever = sum(c.escalated_at is not None for name in BUGS for c in again[name])
        n_escalated = sum(c.status == "escalated" for name in BUGS for c in again[name])
        assert len(created) == ever >= n_escalated
        with db.session() as session:
            secret = _secret(settings, session, "bravo")
        bravo = [(b, h) for b, h in receiver.received if b'"engagement": "bravo"' in b]
        for body, headers in bravo:  # Stripe's own verifier accepts our signature
            stripe.WebhookSignature.verify_header(body.decode(), headers["fde-signature"],
                                                  secret, tolerance=None)

        # SLA: an hour later every open escalation has breached, once
        clock.advance(3600)
        pilot.notify()
        clock.advance(60)
        pilot.notify()
        breached = [b for b, _ in receiver.received if b"sla_breached" in b]
        assert len(breached) == n_escalated

    # company DBs: a fresh reconciliation no longer reports what was repaired
    mapping = load_mapping(MAPPING)
    for name in ("alpha",):
        user = open_user_system(worlds[name].user_url, mapping)
        run = run_recon(snapshot=snapshot_for(settings, name), user=user, mapping=mapping)
        user.engine.dispose()
        left = {(d.class_.value, d.stripe_id) for d in run.discrepancies}
        for case in repaired:
            if case.engagement == name:
                assert (case.kind, case.object_id) not in left


def _secret(settings, session, name):  # noqa: ANN001, ANN202
    from agents.autopilot.policy_store import signing_secret

    return signing_secret(session, secret_box(settings), name)


def test_money_action_sneaked_into_a_policy_is_refused(tmp_path):
    settings = load_settings(data_dir=tmp_path / "data")
    db = open_database(settings)
    add_engagement(settings, db, "bravo", api_base="http://127.0.0.1:9",
                   policy="always_escalate: [DUPLICATE_REMOTE]\n")
    box = secret_box(settings)
    attempts = {
        "auto_repair: [{class: DUPLICATE_REMOTE}]": "DUPLICATE_REMOTE",
        "auto_repair: [{class: STALE_STATE, action: refund_payment}]": "refund_payment",
        "auto_repair: [{class: STALE_STATE, action: credit_customer_balance}]":
            "credit_customer_balance",
        "auto_repair: [{class: NOT_A_CLASS}]": "NOT_A_CLASS",
        "auto_resolve_checks: [payments.no_such_check]": "payments.no_such_check",
        "auto_repair: [{class: STALE_STATE}]\nsurprise: true": "surprise",
    }
    for source, named in attempts.items():
        with pytest.raises(PolicyError) as err, db.session() as session:
            set_policy(session, box, "bravo", source, actor="test:lead", role="approver")
        assert named in str(err.value), str(err.value)
        with db.session() as session:  # nothing changed, nothing audited
            stored = get_policy(session, "bravo")
            assert stored.version == 1 and "DUPLICATE_REMOTE" in stored.policy.always_escalate
            assert [e.action for e in audit.entries(session, target="autopilot-policy:bravo")
                    ] == ["autopilot.policy.set"]
