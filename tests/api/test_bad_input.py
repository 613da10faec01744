"""Bad input gets a 4xx whose message says what was wrong: malformed JSON, unknown thread,
run or assistant, a resume naming an interrupt that is not pending, a new input on a thread
that waits for a decision, a missing or unknown token."""

from __future__ import annotations

import httpx
import pytest

from tests.api.api_helpers import bearer
from tests.api.probe_graph import HITL_SPEC


@pytest.mark.parametrize("api", [{"api_graphs": HITL_SPEC}], indirect=True)
def test_bad_input_is_a_clear_4xx(api, tmp_path):
    auth = bearer(api.db, "engineer")
    url = api.url

    broken = httpx.post(f"{url}/threads", content=b'{"metadata": ', headers={
        **auth, "content-type": "application/json"})
    assert broken.status_code == 422 and "JSON" in broken.json()["detail"]

    unknown = httpx.get(f"{url}/threads/thr_nope", headers=auth)
    assert unknown.status_code == 404 and "no thread 'thr_nope'" in unknown.json()["detail"]
    assert unknown.json()["hint"]
    no_run = httpx.post(f"{url}/threads/thr_nope/runs", headers=auth,
                        json={"assistant_id": "probe_hitl", "input": {}})
    assert no_run.status_code == 404

    tid = httpx.post(f"{url}/threads", json={}, headers=auth).json()["thread_id"]
    dup = httpx.post(f"{url}/threads", json={"thread_id": tid}, headers=auth)
    assert dup.status_code == 409 and "already exists" in dup.json()["detail"]
    nobody = httpx.post(f"{url}/threads/{tid}/runs", headers=auth,
                        json={"assistant_id": "nobody", "input": {}})
    assert nobody.status_code == 404 and "no assistant 'nobody'" in nobody.json()["detail"]
    empty = httpx.post(f"{url}/threads/{tid}/runs", headers=auth,
                       json={"assistant_id": "probe_hitl"})
    assert empty.status_code == 400 and "needs an input" in empty.json()["detail"]

    run = httpx.post(f"{url}/threads/{tid}/runs", headers=auth, json={
        "assistant_id": "probe_hitl",
        "input": {"amount": 100, "out": str(tmp_path / "fx")}}).json()
    values = httpx.get(f"{url}/threads/{tid}/runs/{run['run_id']}/join", headers=auth,
                       timeout=30).json()
    real_id = values["__interrupt__"][0]["id"]

    wrong = httpx.post(f"{url}/threads/{tid}/runs", headers=auth, json={
        "assistant_id": "probe_hitl", "command": {"resume": {"not-an-id": {"type": "reject"}}}})
    assert wrong.status_code == 400
    assert "'not-an-id' is not pending" in wrong.json()["detail"]
    assert real_id in wrong.json()["hint"]
    shapeless = httpx.post(f"{url}/threads/{tid}/runs", headers=auth, json={
        "assistant_id": "probe_hitl", "command": {"resume": {real_id: {"type": "maybe"}}}})
    assert shapeless.status_code == 400 and "approve, edit, reject" in shapeless.json()["detail"]
    again = httpx.post(f"{url}/threads/{tid}/runs", headers=auth, json={
        "assistant_id": "probe_hitl", "input": {"amount": 1}})
    assert again.status_code == 409 and "waiting for a decision" in again.json()["detail"]
    assert not (tmp_path / "fx").exists()  # none of the refused requests ran anything

    assert httpx.get(f"{url}/threads/{tid}").status_code == 401
    forged = httpx.get(f"{url}/threads/{tid}", headers={"Authorization": "Bearer fde_forged"})
    assert forged.status_code == 401 and "unknown or revoked" in forged.json()["detail"]
    viewer = bearer(api.db, "viewer")
    assert httpx.get(f"{url}/threads/{tid}", headers=viewer).status_code == 200
    cannot = httpx.post(f"{url}/threads", json={}, headers=viewer)
    assert cannot.status_code == 403 and "engineer role" in cannot.json()["detail"]


def test_client_chosen_ids_and_metadata_keys_are_bounded(api):
    """Ids a client picks (in paths and bodies) and metadata keys have a length limit: a
    clear 422 naming the field, and nothing created."""
    auth = bearer(api.db, "engineer")
    url, long = api.url, "x" * 65

    def refused(resp: httpx.Response, field: str) -> None:
        assert resp.status_code == 422, resp.text
        assert field in resp.json()["detail"] and "64" in resp.json()["detail"], resp.text

    refused(httpx.post(f"{url}/threads/{long}/runs", headers=auth, json={
        "assistant_id": "triage", "input": {"ticket": "hi"}, "if_not_exists": "create"}),
        "path.thread_id")
    refused(httpx.post(f"{url}/threads", headers=auth, json={"thread_id": long}),
            "body.thread_id")
    refused(httpx.post(f"{url}/threads", headers=auth, json={"metadata": {long: 1}}),
            "body.metadata")
    many = {f"k{i}": i for i in range(65)}
    refused(httpx.post(f"{url}/threads", headers=auth, json={"metadata": many}),
            "body.metadata")
    tid = httpx.post(f"{url}/threads", json={}, headers=auth).json()["thread_id"]
    refused(httpx.post(f"{url}/threads/{tid}/runs", headers=auth, json={
        "assistant_id": "triage", "input": {"ticket": "hi"}, "metadata": {long: 1}}),
        "body.metadata")
    refused(httpx.post(f"{url}/threads/{tid}/runs", headers=auth, json={
        "assistant_id": long, "input": {}}), "body.assistant_id")
    refused(httpx.get(f"{url}/threads/{tid}/runs/{long}", headers=auth), "path.run_id")
    refused(httpx.get(f"{url}/assistants/{long}", headers=auth), "path.assistant_id")
    refused(httpx.get(f"{url}/escalations/{long}", headers=auth), "path.escalation_id")
    refused(httpx.get(f"{url}/engagements/{long}", headers=auth), "path.name")
    odd = httpx.get(f"{url}/threads/thr%20one", headers=auth)
    assert odd.status_code == 422 and "path.thread_id" in odd.json()["detail"]
    threads = httpx.post(f"{url}/threads/search", headers=auth, json={"limit": 100}).json()
    assert [t["thread_id"] for t in threads] == [tid]  # nothing else was created
