"""The escalation queue over HTTP: an interrupt opens an item with its money impact;
claim is exclusive; a money action above FDE_API_TWO_APPROVER_MAJOR needs two different
approvers before the paused run resumes; a second decision is 409 and nothing runs twice;
viewers cannot decide; every decision is in the audit log."""

from __future__ import annotations

import httpx
import pytest

from core import audit
from tests.api.api_helpers import bearer
from tests.api.probe_graph import HITL_SPEC

SETTINGS = {"api_graphs": HITL_SPEC, "api_two_approver_major": 100}


def _paused(api, auth, amount: int, out) -> tuple[str, dict]:
    tid = httpx.post(f"{api.url}/threads", json={}, headers=auth).json()["thread_id"]
    run = httpx.post(f"{api.url}/threads/{tid}/runs", headers=auth, json={
        "assistant_id": "probe_hitl",
        "input": {"engagement": "acme", "amount": amount, "out": str(out)}}).json()
    values = httpx.get(f"{api.url}/threads/{tid}/runs/{run['run_id']}/join", headers=auth,
                       timeout=30).json()
    assert values["__interrupt__"], values
    queue = httpx.get(f"{api.url}/escalations", params={"engagement": "acme"},
                      headers=auth).json()
    return tid, next(e for e in queue if e["thread_id"] == tid)


def _decide(api, auth, esc_id: str, **decision) -> httpx.Response:
    return httpx.post(f"{api.url}/escalations/{esc_id}/decide", json=decision, headers=auth,
                      timeout=30)


def _join(api, auth, tid: str, run_id: str) -> dict:
    return httpx.get(f"{api.url}/threads/{tid}/runs/{run_id}/join", headers=auth,
                     timeout=30).json()


@pytest.mark.parametrize("api", [SETTINGS], indirect=True)
def test_money_above_threshold_needs_two_approvers_and_applies_once(api, tmp_path):
    engineer = bearer(api.db, "engineer", "eve")
    ann, bob = bearer(api.db, "approver", "ann"), bearer(api.db, "approver", "bob")
    viewer = bearer(api.db, "viewer", "vic")
    out = tmp_path / "applied"
    tid, esc = _paused(api, engineer, 50_000, out)
    assert (esc["severity"], esc["money_action"], esc["status"]) == ("high", True, "open")
    assert esc["money_impact"] == {"amount": 50_000, "currency": "eur"}
    assert esc["product"]  # from the failure mode's catalogue entry
    approve = {"type": "approve", "action": "credit_customer_balance"}

    denied = _decide(api, viewer, esc["id"], **approve)
    assert denied.status_code == 403 and "engineer role" in denied.json()["detail"]
    not_approver = _decide(api, engineer, esc["id"], **approve)
    assert not_approver.status_code == 403 and "approver role" in not_approver.json()["detail"]

    assert httpx.post(f"{api.url}/escalations/{esc['id']}/claim", headers=ann).status_code == 200
    taken = httpx.post(f"{api.url}/escalations/{esc['id']}/claim", headers=engineer)
    assert taken.status_code == 409 and "claimed by user:ann" in taken.json()["detail"]

    first = _decide(api, ann, esc["id"], **approve).json()
    assert first["waiting_for_second_approver"] and first["run_id"] is None
    again = _decide(api, ann, esc["id"], **approve)
    assert again.status_code == 409 and "different" in again.json()["detail"]
    assert not out.exists()  # nothing ran on one approval

    second = _decide(api, bob, esc["id"], **approve)
    assert second.status_code == 200, second.text
    body = second.json()
    assert body["escalation"]["status"] == "decided" and body["run_id"]
    assert _join(api, engineer, tid, body["run_id"])["status"] == "applied"

    replay = _decide(api, bob, esc["id"], type="reject")
    assert replay.status_code == 409 and "already decided" in replay.json()["detail"]
    assert out.read_text().splitlines() == ["approve:credit_customer_balance"]  # once
    with api.db.session() as session:
        actions = [e.action for e in audit.entries(session, target=esc["id"])]
    assert actions.count("escalation.decide") == 1 and "escalation.approve_first" in actions
    assert "escalation.claim" in actions


@pytest.mark.parametrize("api", [SETTINGS], indirect=True)
def test_small_money_action_needs_one_approver_and_bad_decisions_are_refused(api, tmp_path):
    ann = bearer(api.db, "approver", "ann")
    tid, esc = _paused(api, ann, 500, tmp_path / "applied")
    bad = _decide(api, ann, esc["id"], type="approve", action="drop_database")
    assert bad.status_code == 400 and "was not proposed" in bad.json()["detail"]
    no_msg = _decide(api, ann, esc["id"], type="respond")
    assert no_msg.status_code == 400 and "needs a message" in no_msg.json()["detail"]
    edit = _decide(api, ann, esc["id"], type="edit", action="credit_customer_balance",
                   args={"customer": "cus_PROBE1234", "amount": 400, "currency": "eur"})
    assert edit.status_code == 200 and edit.json()["run_id"]
    assert _join(api, ann, tid, edit.json()["run_id"])["decision"]["args"]["amount"] == 400
    listed = httpx.get(f"{api.url}/escalations", headers=ann).json()
    assert esc["id"] not in [e["id"] for e in listed]  # decided items leave the queue
    decided = httpx.get(f"{api.url}/escalations", params={"status": "decided"},
                        headers=ann).json()
    assert [e["id"] for e in decided] == [esc["id"]]


def test_two_approver_threshold_is_scaled_by_each_currencys_exponent():
    from api.escalations import _needs_two
    from core.money import Money
    from core.settings import Settings

    settings = Settings(api_two_approver_major=100)
    assert not _needs_two(Money(amount=10_000, currency="eur"), settings)  # EUR 100.00
    assert _needs_two(Money(amount=10_001, currency="eur"), settings)
    assert _needs_two(Money(amount=101, currency="jpy"), settings)  # ¥101, zero-decimal
    assert not _needs_two(Money(amount=100_000, currency="bhd"), settings)  # BHD 100.000
    assert _needs_two(None, settings)  # amount or currency unknown: always two
