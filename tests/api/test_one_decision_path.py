"""One decision path: resuming a paused run through `POST /threads/{id}/runs` with
`command.resume` obeys the escalation queue's rules (approver role for money, two approvers
above the threshold, another user's claim, audit), and an edit only targets objects the
run's tools returned — or ones the engineer names and the engagement's account holds — and
only lowers amounts. Raw HTTP and the official langgraph-sdk client."""

from __future__ import annotations

import httpx
import pytest
from langgraph_sdk import get_sync_client

from core import audit
from tests.api.api_helpers import bearer, token
from tests.api.probe_graph import HITL_SPEC

SETTINGS = {"api_graphs": HITL_SPEC, "api_two_approver_major": 100}
MONEY = "credit_customer_balance"


def _paused(api, auth, amount: int, out, engagement: str = "acme") -> tuple[str, dict]:
    tid = httpx.post(f"{api.url}/threads", json={}, headers=auth).json()["thread_id"]
    run = httpx.post(f"{api.url}/threads/{tid}/runs", headers=auth, json={
        "assistant_id": "probe_hitl",
        "input": {"engagement": engagement, "amount": amount, "out": str(out)}}).json()
    values = httpx.get(f"{api.url}/threads/{tid}/runs/{run['run_id']}/join", headers=auth,
                       timeout=30).json()
    assert values["__interrupt__"], values
    queue = httpx.get(f"{api.url}/escalations", headers=auth).json()
    return tid, next(e for e in queue if e["thread_id"] == tid)


def _resume(api, auth, tid: str, iid: str, **decision) -> httpx.Response:
    return httpx.post(f"{api.url}/threads/{tid}/runs", headers=auth, timeout=30, json={
        "assistant_id": "probe_hitl", "command": {"resume": {iid: decision}}})


def _esc(api, auth, esc_id: str) -> dict:
    return httpx.get(f"{api.url}/escalations/{esc_id}", headers=auth).json()


def _join(api, auth, tid: str, run_id: str) -> dict:
    return httpx.get(f"{api.url}/threads/{tid}/runs/{run_id}/join", headers=auth,
                     timeout=30).json()


@pytest.mark.parametrize("api", [SETTINGS], indirect=True)
def test_an_engineer_cannot_move_money_by_resuming_the_run(api, tmp_path):
    eve = bearer(api.db, "engineer", "eve")
    out = tmp_path / "applied"
    tid, esc = _paused(api, eve, 500, out)
    for decision in ({"type": "approve", "action": MONEY},
                     {"type": "edit", "action": MONEY,
                      "args": {"customer": "cus_PROBE1234", "amount": 100, "currency": "eur"}}):
        refused = _resume(api, eve, tid, esc["interrupt_id"], **decision)
        assert refused.status_code == 403, refused.text
        assert "approver role" in refused.json()["detail"]
    assert not out.exists()
    assert _esc(api, eve, esc["id"])["status"] == "open"
    assert httpx.get(f"{api.url}/threads/{tid}", headers=eve).json()["status"] == "interrupted"


@pytest.mark.parametrize("api", [SETTINGS], indirect=True)
def test_claims_and_two_approvers_hold_on_the_runs_api(api, tmp_path):
    ann, bob = bearer(api.db, "approver", "ann"), bearer(api.db, "approver", "bob")
    out = tmp_path / "applied"
    tid, esc = _paused(api, ann, 50_000, out)
    iid, approve = esc["interrupt_id"], {"type": "approve", "action": MONEY}

    assert httpx.post(f"{api.url}/escalations/{esc['id']}/claim", headers=bob).status_code == 200
    claimed = _resume(api, ann, tid, iid, **approve)
    assert claimed.status_code == 409 and "claimed by user:bob" in claimed.json()["detail"]

    alone = _resume(api, bob, tid, iid, **approve)
    assert alone.status_code == 409 and "two approvers" in alone.json()["detail"], alone.text
    assert _esc(api, bob, esc["id"])["approvals"] == []  # refused: nothing recorded
    first = httpx.post(f"{api.url}/escalations/{esc['id']}/decide", json=approve, headers=bob)
    assert first.json()["waiting_for_second_approver"]
    twice = _resume(api, bob, tid, iid, **approve)
    assert twice.status_code == 409 and "different" in twice.json()["detail"]
    assert not out.exists()

    second = _resume(api, ann, tid, iid, **approve)
    assert second.status_code == 200, second.text
    run_id = second.json()["run_id"]
    assert _join(api, ann, tid, run_id)["status"] == "applied"
    decided = _esc(api, ann, esc["id"])
    assert decided["status"] == "decided" and decided["resume_run_id"] == run_id
    assert [a["actor"] for a in decided["approvals"]] == ["user:bob", "user:ann"]
    assert out.read_text().splitlines() == [f"approve:{MONEY}"]
    with api.db.session() as session:
        (entry,) = [e for e in audit.entries(session, target=esc["id"])
                    if e.action == "escalation.decide"]
    assert entry.details["approvers"] == ["user:bob", "user:ann"]
    again = _resume(api, bob, tid, iid, type="reject")
    assert again.status_code == 409


@pytest.mark.parametrize("api", [SETTINGS], indirect=True)
def test_an_edit_keeps_to_returned_objects_and_only_lowers_amounts(api, tmp_path):
    ann = bearer(api.db, "approver", "ann")
    tid, esc = _paused(api, ann, 500, tmp_path / "applied")
    iid = esc["interrupt_id"]

    def edit(**args) -> httpx.Response:
        return _resume(api, ann, tid, iid, type="edit", action=MONEY, args=args)

    other = edit(customer="cus_SOMEONEELSE1", amount=500, currency="eur")
    assert other.status_code == 403, other.text
    assert "cus_SOMEONEELSE1" in other.json()["detail"] and "named_ids" in other.json()["hint"]
    more = edit(amount=501)
    assert more.status_code == 403 and "only go down" in more.json()["detail"], more.text
    currency = edit(amount=100, currency="usd")
    assert currency.status_code == 403 and "currency" in currency.json()["detail"]
    bad = edit(amount="400")
    assert bad.status_code == 400 and "amount" in bad.json()["detail"], bad.text
    assert _esc(api, ann, esc["id"])["status"] == "open"

    lower = edit(amount=400)
    assert lower.status_code == 200, lower.text
    final = _join(api, ann, tid, lower.json()["run_id"])
    assert final["decision"]["args"] == {"customer": "cus_PROBE1234", "amount": 400,
                                         "currency": "eur"}  # what was checked is what runs
    assert final["decision"]["actor"] == "user:ann"


@pytest.mark.parametrize("api", [SETTINGS], indirect=True)
def test_a_named_object_must_be_on_the_engagements_account(api, tmp_path, replica):
    from pydantic import SecretStr

    from core import engagements
    from core.secrets import secret_box
    from core.settings import SANDBOX_API_KEY

    with api.db.session() as session:
        engagements.add(session, secret_box(api.settings), engagements.EngagementCreate(
            name="acme", stripe_key=SecretStr(SANDBOX_API_KEY),
            stripe_api_base=replica.url), actor="test")
    real = replica.client().v1.customers.create({"email": "x@example.com"}).id
    ann = bearer(api.db, "approver", "ann")
    tid, esc = _paused(api, ann, 500, tmp_path / "applied")

    def edit(named: list[str] | None, customer: str) -> httpx.Response:
        return _resume(api, ann, tid, esc["interrupt_id"], type="edit", action=MONEY,
                       args={"customer": customer, "amount": 300}, named_ids=named or [])

    unnamed = edit(None, real)
    assert unnamed.status_code == 403 and real in unnamed.json()["detail"]
    ghost = edit(["cus_NOTONACCOUNT9"], "cus_NOTONACCOUNT9")
    assert ghost.status_code == 403, ghost.text
    assert "acme" in ghost.json()["detail"] and "cus_NOTONACCOUNT9" in ghost.json()["detail"]
    named = edit([real], real)
    assert named.status_code == 200, named.text
    decision = _join(api, ann, tid, named.json()["run_id"])["decision"]
    assert decision["args"]["customer"] == real and decision["args"]["amount"] == 300


@pytest.mark.parametrize("api", [SETTINGS], indirect=True)
def test_the_official_sdk_meets_the_same_rules(api, tmp_path):
    out = tmp_path / "applied"
    eve = get_sync_client(url=api.url, api_key=token(api.db, "engineer", "eve"))
    ann = get_sync_client(url=api.url, api_key=token(api.db, "approver", "ann"))
    bob = get_sync_client(url=api.url, api_key=token(api.db, "approver", "bob"))
    tid = eve.threads.create()["thread_id"]
    values = eve.runs.wait(tid, "probe_hitl", input={
        "engagement": "acme", "amount": 50_000, "out": str(out)})
    iid = values["__interrupt__"][0]["id"]
    approve = {"resume": {iid: {"type": "approve", "action": MONEY}}}

    with pytest.raises(httpx.HTTPStatusError) as engineer:
        eve.runs.wait(tid, "probe_hitl", command=approve)
    assert engineer.value.response.status_code == 403
    with pytest.raises(httpx.HTTPStatusError) as one:
        list(ann.runs.stream(tid, "probe_hitl", command=approve))
    assert one.value.response.status_code == 409
    assert not out.exists() and eve.threads.get(tid)["status"] == "interrupted"

    esc = next(e for e in ann.http.get("/escalations") if e["thread_id"] == tid)
    first = ann.http.post(f"/escalations/{esc['id']}/decide",
                          json={"type": "approve", "action": MONEY})
    assert first["waiting_for_second_approver"]
    final = bob.runs.wait(tid, "probe_hitl", command=approve)
    assert final["status"] == "applied" and final["decision"]["actor"] == "user:bob"
    assert out.read_text().splitlines() == [f"approve:{MONEY}"]


@pytest.mark.parametrize("api", [SETTINGS], indirect=True)
def test_a_malformed_resume_is_a_400_naming_the_field(api, tmp_path):
    ann = bearer(api.db, "approver", "ann")
    tid, esc = _paused(api, ann, 500, tmp_path / "applied")
    iid = esc["interrupt_id"]
    for value, field in ((["approve"], f"command.resume.{iid}"),
                         ({"type": "approve", "action": MONEY, "named_ids": "pi_x"},
                          "named_ids"),
                         ({"type": "maybe"}, "type"),
                         ({"type": "approve", "action": MONEY, "args": {"amount": 1}},
                          "edit")):
        bad = httpx.post(f"{api.url}/threads/{tid}/runs", headers=ann, json={
            "assistant_id": "probe_hitl", "command": {"resume": {iid: value}}})
        assert bad.status_code == 400 and field in bad.json()["detail"] + bad.json()["hint"], (
            value, bad.text)
    named = _resume(api, ann, tid, iid, type="edit", action=MONEY, args={"amount": 100},
                    named_ids=["not an id"])
    assert named.status_code in (400, 422) and "named_ids" in named.text
    assert _esc(api, ann, esc["id"])["status"] == "open"  # nothing half-applied
    assert httpx.get(f"{api.url}/threads/{tid}", headers=ann).json()["status"] == "interrupted"
