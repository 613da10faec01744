"""Product endpoints over what the tools stored: engagements (never the key, only its
hint), findings, reconciliation runs, integration maps and their drift; `/metrics` counts
runs by status, queue depth, open escalations and SSE clients."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from core.settings import SANDBOX_API_KEY
from tests.api.api_helpers import bearer
from tests.api.probe_graph import HITL_SPEC, SPEC
from tests.api.webhook_helpers import add_engagement


def _seed(db, settings) -> None:
    from tools.checks.model import Finding
    from tools.checks.store import save_findings
    from tools.map.model import IntegrationMap, Node
    from tools.map.store import save_snapshot
    from tools.recon.models import ReconRun
    from tools.recon.store import save_run

    add_engagement(db, settings, secrets=())
    finding = Finding(id="fnd_TEST000001", check="webhook.failing_endpoint",
                      failure_mode="FM-01", severity="high", products=["payments"],
                      subject="we_TEST0001", evidence=["we_TEST0001"], summary="failing",
                      fix="fix it", systemic_fix="monitor", pattern_refs=[])
    with db.session() as session:
        save_findings(session, "acme", [finding], evaluated=["webhook.failing_endpoint"])
        save_run(session, ReconRun(id="rcn_TEST000001", engagement="acme",
                                   started_at=datetime.now(UTC), verdict="BREAKS",
                                   counts={"MISSING_LOCAL": 2}))
        for endpoints in (["we_OLD00001"], ["we_OLD00001", "we_NEW00001"]):
            save_snapshot(session, "acme", IntegrationMap(
                engagement="acme", nodes=[Node(id=f"endpoint:{x}", kind="endpoint", label=x)
                                          for x in endpoints]))


@pytest.mark.parametrize("api", [{"api_graphs": f"{HITL_SPEC},{SPEC}"}], indirect=True)
def test_product_endpoints_and_metrics(api, tmp_path):
    _seed(api.db, api.settings)
    auth = bearer(api.db, "viewer")
    get = lambda path, **kw: httpx.get(f"{api.url}{path}", headers=auth, **kw)  # noqa: E731

    listed = get("/engagements")
    assert [e["name"] for e in listed.json()] == ["acme"]
    assert SANDBOX_API_KEY not in listed.text and "stripe_key_hint" in listed.json()[0]
    assert get("/engagements/nope").status_code == 404

    (found,) = get("/findings", params={"engagement": "acme"}).json()
    assert found["id"] == "fnd_TEST000001" and found["severity"] == "high"
    assert get("/findings", params={"engagement": "nope"}).status_code == 404

    (summary,) = get("/recon/runs", params={"engagement": "acme"}).json()
    assert (summary["id"], summary["verdict"]) == ("rcn_TEST000001", "BREAKS")
    assert get("/recon/runs/rcn_TEST000001").json()["counts"] == {"MISSING_LOCAL": 2}
    assert get("/recon/runs/rcn_nope").status_code == 404

    latest = get("/maps/acme").json()
    assert latest["version"] == 2 and len(latest["nodes"]) == 2
    assert len(get("/maps/acme", params={"version": 1}).json()["nodes"]) == 1
    drift = get("/maps/acme/drift").json()
    assert (drift["from_version"], drift["to_version"]) == (1, 2) and drift["drift"]
    assert [(d["kind"], d["subject"]) for d in drift["drift"]] == [
        ("endpoint_added", "endpoint:we_NEW00001")]

    engineer = bearer(api.db, "engineer", "eng")
    tid = httpx.post(f"{api.url}/threads", json={}, headers=engineer).json()["thread_id"]
    run = httpx.post(f"{api.url}/threads/{tid}/runs", headers=engineer, json={
        "assistant_id": "probe_hitl", "input": {"amount": 5, "out": str(tmp_path / "x")}}
                     ).json()
    get(f"/threads/{tid}/runs/{run['run_id']}/join", timeout=30)
    text = get("/metrics").text
    assert 'fde_runs{status="interrupted"} 1.0' in text
    assert "fde_escalations_open 1.0" in text and "fde_run_queue_depth 0.0" in text
    slow = httpx.post(f"{api.url}/threads", json={}, headers=engineer).json()["thread_id"]
    with httpx.stream("POST", f"{api.url}/threads/{slow}/runs/stream", headers=engineer,
                      json={"assistant_id": "probe", "input": {"ticks": 40, "delay": 0.05}},
                      timeout=30) as stream:
        lines = stream.iter_lines()  # held: a dropped iterator would close the stream
        assert next(lines).startswith("id: ")
        metrics_text = get("/metrics").text
        assert "fde_sse_clients 1.0" in metrics_text, metrics_text[-600:]
    assert httpx.get(f"{api.url}/metrics").status_code == 401
