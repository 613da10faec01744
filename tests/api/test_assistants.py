"""The other product entry points: `review` as an assistant (architecture review against the
pattern library, no engagement needed) and `POST /triage`, which only queues (checked with
no workers running, so the queued run is observable)."""

from __future__ import annotations

import httpx
import pytest

from tests.api.api_helpers import bearer
from tests.api.webhook_helpers import add_engagement
from tests.conftest import REPO


def test_review_assistant_reviews_an_architecture(api):
    auth = bearer(api.db, "engineer")
    tid = httpx.post(f"{api.url}/threads", json={}, headers=auth).json()["thread_id"]
    path = REPO / "knowledge" / "examples" / "saas-seats.yaml"
    values = httpx.post(f"{api.url}/threads/{tid}/runs/wait", headers=auth, timeout=120,
                        json={"assistant_id": "review", "input": {"path": str(path)}}).json()
    report = values["report"]
    assert report["matched_patterns"] and (report["violations"] or report["passed"])
    assert report["architecture"] and values["markdown"].startswith("#")
    assert httpx.get(f"{api.url}/threads/{tid}", headers=auth).json()["status"] == "idle"


@pytest.mark.parametrize("api", [{"api_workers": 0}], indirect=True)
def test_post_triage_queues_a_run_on_a_new_thread(api):
    add_engagement(api.db, api.settings, secrets=())
    auth = bearer(api.db, "engineer")
    queued = httpx.post(f"{api.url}/triage", headers=auth,
                        json={"ticket": "Invoices stay open", "engagement": "acme"})
    assert queued.status_code == 202, queued.text
    body = queued.json()
    run = httpx.get(f"{api.url}/threads/{body['thread_id']}/runs/{body['run_id']}",
                    headers=auth).json()
    assert run["status"] == "pending" and run["assistant_id"] == "triage"
    assert run["kwargs"]["input"] == {"ticket": "Invoices stay open", "engagement": "acme"}
    assert body["stream_url"].endswith(f"/runs/{body['run_id']}/stream")
    assert "fde_run_queue_depth 1.0" in httpx.get(f"{api.url}/metrics", headers=auth).text
    unknown = httpx.post(f"{api.url}/triage", headers=auth,
                         json={"ticket": "x", "engagement": "nope"})
    assert unknown.status_code == 404 and "no engagement named 'nope'" in unknown.text
    empty = httpx.post(f"{api.url}/triage", headers=auth, json={"ticket": "",
                                                                 "engagement": "acme"})
    assert empty.status_code == 422 and "ticket" in empty.json()["detail"]
