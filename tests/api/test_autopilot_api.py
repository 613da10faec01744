"""The autopilot connected to the service: its escalations land in the API's queue and an
engineer's decision there feeds back to the case (an approved repair applied once, through
recon's repair path, and verified; a money action still needs two approvers and is never
carried out by the autopilot); policy, status, scorecard and cases over HTTP; `fde serve
--autopilot` runs and stops the scheduler."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from agents.autopilot import Autopilot, AutopilotDeps, EscalationPayload
from agents.autopilot.cases import CaseItem, get_case, observe
from api import escalations as queue
from api.auth import Principal
from api.autopilot_runner import AutopilotRunner
from api.autopilot_sink import ApiEscalationSink
from api.escalations import DecisionIn
from core import audit
from core.settings import load_settings
from core.storage import open_database
from tests.agents.autopilot.helpers import MAPPING, Clock, add_engagement, serve_world
from tests.api.api_helpers import bearer, token
from tests.api.test_pg_workers import _up
from tests.conftest import REPO, free_port
from tools.checks.engagement import snapshot_for
from tools.recon.adapter import open_user_system
from tools.recon.mapping import load_mapping
from tools.recon.run import run_recon

FAST = "schedule: {sync: 60, map_refresh: 60, checks: 60, reconcile: 60, jitter: 0.2}\n"
# FM-16: an invoice left open locally (STALE_STATE, a write repair, not automatic here);
# FM-07: double charges (DUPLICATE_REMOTE: refunding one is a money action).
POLICY = FAST + "always_escalate: [DUPLICATE_REMOTE]\n"


def _repairs(db, target: str) -> list[str]:  # noqa: ANN001
    with db.session() as session:
        return [e.action for e in audit.entries(session, target=target, limit=100)
                if e.action.startswith("recon.repair")]


@pytest.mark.slow
@pytest.mark.parametrize("api", [{"api_two_approver_major": 0}], indirect=True)
def test_autopilot_escalations_are_decided_through_the_api(api, tmp_path):
    url, db = api.url, api.db
    engineer, viewer = bearer(db, "engineer", "erin"), bearer(db, "viewer", "vic")
    ann, bob = bearer(db, "approver", "ann"), bearer(db, "approver", "bob")
    with ExitStack() as stack:
        world = serve_world(stack, tmp_path, "shop", "FM-16,FM-07")
        add_engagement(api.settings, db, "shop", api_base=world.replica.url,
                       user_url=world.user_url, connected=world.connected())
        put = httpx.put(f"{url}/engagements/shop/policy", json={"source": POLICY},
                        headers=ann, timeout=30)
        assert put.status_code == 200, put.text
        pilot = Autopilot(AutopilotDeps(settings=api.settings, db=db, clock=Clock(), seed=3,
                                        sink=ApiEscalationSink(api.settings)))
        tick = pilot.run_once()
        assert {j.status for j in tick.jobs} == {"done"}, tick.jobs

        cases = httpx.get(f"{url}/cases", params={"engagement": "shop", "status": "escalated"},
                          headers=viewer, timeout=30).json()
        stale = [c for c in cases if c["kind"] == "STALE_STATE" and c["entity"] == "invoice"]
        dupes = [c for c in cases if c["kind"] == "DUPLICATE_REMOTE"]
        assert len(stale) == 1 and dupes, [(c["kind"], c["entity"]) for c in cases]
        items = httpx.get(f"{url}/escalations", params={"engagement": "shop", "limit": 1000},
                          headers=viewer, timeout=30).json()
        by_case = {i["payload"]["case_id"]: i for i in items}
        assert len(by_case) == len(items) == len(cases)  # one queue item per escalated case
        for case in cases:  # with the case's evidence and the queue id on the case
            item = by_case[case["id"]]
            assert item["payload"]["evidence"] == case["evidence"]
            assert case["escalation"]["queue_id"] == item["id"]

        # a write repair: an engineer approves it, it is applied once and verified
        case, item = stale[0], by_case[stale[0]["id"]]
        assert not item["money_action"]
        assert "repair.upsert_local" in [a["name"] for a in item["payload"]["action_requests"]]
        assert _repairs(db, case["object_id"]) == []  # nothing before the approval
        decided = httpx.post(f"{url}/escalations/{item['id']}/decide", headers=engineer,
                             json={"type": "approve", "action": "repair.upsert_local"},
                             timeout=120)
        assert decided.status_code == 200, decided.text
        assert decided.json()["waiting_for_second_approver"] is False
        after = httpx.get(f"{url}/cases", params={"engagement": "shop"}, headers=viewer,
                          timeout=30).json()
        repaired = next(c for c in after if c["id"] == case["id"])
        assert repaired["status"] == "resolved", repaired["resolution"]
        assert repaired["resolution"]["how"] == "repaired after approval"
        assert repaired["resolution"]["verified"] is True
        again = httpx.post(f"{url}/escalations/{item['id']}/decide", headers=engineer,
                           json={"type": "approve", "action": "repair.upsert_local"},
                           timeout=60)
        assert again.status_code == 409
        assert _repairs(db, case["object_id"]) == ["recon.repair.applied"]

        # a money action: the approver role, two different approvers, and still no money
        # moved by the autopilot (recon only acknowledges it)
        dup, dup_item = dupes[0], by_case[dupes[0]["id"]]
        assert dup_item["money_action"] is True
        approve = {"type": "approve", "action": "repair.mark_for_engineer"}
        path = f"{url}/escalations/{dup_item['id']}/decide"
        assert httpx.post(path, headers=engineer, json=approve, timeout=60).status_code == 403
        first = httpx.post(path, headers=ann, json=approve, timeout=60).json()
        assert first["waiting_for_second_approver"] is True
        assert httpx.post(path, headers=ann, json=approve, timeout=60).status_code == 409
        second = httpx.post(path, headers=bob, json=approve, timeout=120).json()
        assert second["waiting_for_second_approver"] is False
        assert second["escalation"]["resume_run_id"] == f"case:{dup['id']}"
        with db.session() as session:
            money_case = get_case(session, dup["id"])
        assert money_case.status == "escalated"
        assert "acknowledged" in money_case.resolution["note"]
        assert "recon.repair.applied" not in _repairs(db, dup["object_id"])

        status = httpx.get(f"{url}/autopilot/status", params={"engagement": "shop"},
                           headers=viewer, timeout=30).json()
        assert status["in_process"] is False
        assert status["engagements"][0]["last"]["reconcile"]["status"] == "done"
        card = httpx.get(f"{url}/engagements/shop/scorecard", headers=viewer, timeout=30)
        assert card.status_code == 200 and card.json()["cases"]["resolved"] >= 1

    # the company DB: a fresh reconciliation no longer reports the repaired invoice
    mapping = load_mapping(MAPPING)
    user = open_user_system(world.user_url, mapping)
    run = run_recon(snapshot=snapshot_for(api.settings, "shop"), user=user, mapping=mapping)
    user.engine.dispose()
    assert ("STALE_STATE", case["object_id"]) not in {
        (d.class_.value, d.stripe_id) for d in run.discrepancies}


def test_policy_over_http_needs_an_approver_and_bad_ones_change_nothing(api):
    url, db = api.url, api.db
    add_engagement(api.settings, db, "bravo", api_base="http://127.0.0.1:9")
    engineer, ann = bearer(db, "engineer", "erin"), bearer(db, "approver", "ann")
    path = f"{url}/engagements/bravo/policy"
    default = httpx.get(path, headers=engineer, timeout=30).json()
    assert default["version"] == 0 and default["policy"]["auto_repair"] == []

    good = {"source": "auto_repair: [{class: STALE_STATE, entities: [invoice]}]\n"}
    denied = httpx.put(path, json=good, headers=engineer, timeout=30)
    assert denied.status_code == 403 and "approver" in denied.json()["detail"]
    assert httpx.get(path, headers=engineer, timeout=30).json()["version"] == 0

    ok = httpx.put(path, json=good, headers=ann, timeout=30)
    assert ok.status_code == 200, ok.text
    assert ok.json()["version"] == 1 and ok.json()["updated_by"] == "user:ann"
    with db.session() as session:
        entries = audit.entries(session, target="autopilot-policy:bravo")
    assert [(e.action, e.actor) for e in entries] == [("autopilot.policy.set", "user:ann")]

    for source, named in {
        "auto_repair: [{class: DUPLICATE_REMOTE}]": "DUPLICATE_REMOTE",
        "auto_repair: [{class: STALE_STATE, action: refund_payment}]": "refund_payment",
        "auto_repair: [{class: NOT_A_CLASS}]": "NOT_A_CLASS",
    }.items():
        bad = httpx.put(path, json={"source": source}, headers=ann, timeout=30)
        assert bad.status_code == 422 and named in bad.json()["detail"], bad.text
    after = httpx.get(path, headers=engineer, timeout=30).json()
    assert after["version"] == 1 and after["source"] == good["source"]
    with db.session() as session:
        assert len(audit.entries(session, target="autopilot-policy:bravo")) == 1
    missing = httpx.put(f"{url}/engagements/nope/policy", json=good, headers=ann, timeout=30)
    assert missing.status_code == 404
    assert httpx.get(f"{url}/engagements/nope/scorecard", headers=engineer,
                     timeout=30).status_code == 404


def test_runner_applies_decisions_left_pending_and_stops(tmp_path):
    """A decision taken but never handed to its case (the deciding process stopped) is
    applied by the in-process autopilot before its tick; stop() ends the loop."""
    settings = load_settings(data_dir=tmp_path / "data", stripe_max_retries=0)
    db = open_database(settings)
    add_engagement(settings, db, "quiet", api_base=f"http://127.0.0.1:{free_port()}")
    sink = ApiEscalationSink(settings)
    item = CaseItem(source="finding", kind="billing.example", object_id="in_1",
                    severity="medium", summary="an example", evidence=["evt_1"], item={})
    with db.session() as session:
        case, _ = observe(session, "quiet", item, now=Clock().now)
        sink.escalate(session, case, EscalationPayload(
            action_requests=[], review_configs=[], reason="test", case_id=case.id,
            engagement="quiet", evidence=["evt_1"]), now=Clock().now)
        escalation_id = queue.list_open(session, engagement="quiet")[0].id
        queue.decide(session, escalation_id, Principal("ann", "approver"), DecisionIn(
            type="approve", action="close_case"), settings=settings)
    runner = AutopilotRunner(settings, db, poll_seconds=0.2, triage=False).start()
    try:
        deadline = time.monotonic() + 60
        while runner.ticks < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert runner.ticks >= 1
    finally:
        assert runner.stop(timeout=60) and not runner.running
    with db.session() as session:
        closed = get_case(session, case.id)
    assert closed.status == "resolved" and closed.resolution["how"] == "closed by user:ann"
    # the tick itself ran: Stripe is unreachable, so the sync failed and says so
    assert runner.last is not None
    assert [j.status for j in runner.last.jobs if j.kind == "sync"] == ["queued"]


@pytest.mark.slow
def test_fde_serve_autopilot_runs_and_stops(tmp_path):
    data = tmp_path / "serve-data"
    env = {**os.environ, "FDE_DATA_DIR": str(data), "FDE_AUTOPILOT_POLL_SECONDS": "0.5"}
    port = free_port()
    log = tmp_path / "serve.log"
    fde = Path(sys.executable).with_name("fde")
    proc = subprocess.Popen([str(fde), "serve", "--port", str(port), "--workers", "0",
                             "--autopilot"], cwd=REPO, env=env, stdout=log.open("wb"),
                            stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        _up(url, proc, log)
        db = open_database(load_settings(data_dir=data))
        auth = {"Authorization": f"Bearer {token(db, 'viewer', 'vic')}"}
        status = httpx.get(f"{url}/autopilot/status", headers=auth, timeout=30).json()
        assert status["in_process"] is True
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=90) == 0, log.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out = log.read_text()
    assert "autopilot on" in out and "autopilot stopped" in out, out[-3000:]
