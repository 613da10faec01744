"""`/shadow/runs` and `/signals` over what the tools stored, on a real uvicorn: summaries
newest first with the engagement filter, one run in full, 404 with a hint for an unknown
run; signals aggregated across engagements with money kept in minor units per currency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.api.api_helpers import bearer


def _shadow_run(run_id: str, engagement: str, verdict: str, started: datetime):
    from tools.shadow.models import Mismatch, RunInfo, ShadowRun

    info = RunInfo(id=run_id, mode="webhook_replay", engagement=engagement, primary="v1",
                   candidate="v2", corpus_hash="sha256:ab", fault_seed=4, started_at=started)
    miss = Mismatch(kind="invariant", invariant="one_fulfilment", detail="2 grants",
                    event_type="payment_intent.succeeded", amount_minor=15000,
                    currency="jpy", repro="fde shadow run …")
    return ShadowRun(run=info, verdict=verdict, mismatches=[miss] if verdict == "FAIL" else [],
                     top_mismatches=[miss] if verdict == "FAIL" else [])


def test_shadow_runs_list_filter_and_detail(api):
    from tools.shadow.store import save_run

    now = datetime.now(UTC)
    with api.db.session() as session:
        save_run(session, _shadow_run("shd_OLD", "acme", "PASS", now - timedelta(hours=1)))
        save_run(session, _shadow_run("shd_NEW", "acme", "FAIL", now))
        save_run(session, _shadow_run("shd_OTHER", "other", "PASS", now))
    auth = bearer(api.db, "viewer")

    listed = httpx.get(f"{api.url}/shadow/runs", params={"engagement": "acme"}, headers=auth)
    assert listed.status_code == 200
    assert [(r["id"], r["verdict"], r["mismatches"]) for r in listed.json()] == [
        ("shd_NEW", "FAIL", 1), ("shd_OLD", "PASS", 0)]
    assert len(httpx.get(f"{api.url}/shadow/runs", headers=auth).json()) == 3
    assert len(httpx.get(f"{api.url}/shadow/runs", params={"limit": 1},
                         headers=auth).json()) == 1

    full = httpx.get(f"{api.url}/shadow/runs/shd_NEW", headers=auth).json()
    assert full["verdict"] == "FAIL" and full["run"]["candidate"] == "v2"
    assert full["mismatches"][0]["amount_minor"] == 15000  # integer minor units, as stored

    missing = httpx.get(f"{api.url}/shadow/runs/shd_nope", headers=auth)
    assert missing.status_code == 404 and "fde shadow list" in missing.json()["hint"]
    assert httpx.get(f"{api.url}/shadow/runs").status_code == 401
    assert httpx.get(f"{api.url}/shadow/runs", params={"limit": 0},
                     headers=auth).status_code == 422


def test_signals_aggregate_findings_across_engagements(api):
    from tools.checks.model import Finding
    from tools.checks.store import save_findings

    def finding(fid: str, subject: str, amount: int) -> Finding:
        return Finding(id=fid, check="webhook.failing_endpoint", failure_mode="FM-01",
                       severity="high", products=["payments"], subject=subject,
                       evidence=[subject], summary="failing endpoint", fix="fix it",
                       systemic_fix="monitor", pattern_refs=[],
                       details={"amount_minor": amount, "currency": "eur"})

    with api.db.session() as session:
        save_findings(session, "acme", [finding("fnd_A1", "we_A1", 1250)],
                      evaluated=["webhook.failing_endpoint"])
        save_findings(session, "globex", [finding("fnd_G1", "we_G1", 999)],
                      evaluated=["webhook.failing_endpoint"])
    got = httpx.get(f"{api.url}/signals", headers=bearer(api.db, "viewer"))
    assert got.status_code == 200
    report = got.json()
    assert report["engagements"] == ["acme", "globex"]
    (signal,) = [s for s in report["signals"] if s["id"] == "FM-01"]
    assert signal["count"] == 2 and signal["engagements"] == ["acme", "globex"]
    assert signal["money_impact"] == {"eur": 2249}
    assert httpx.get(f"{api.url}/signals").status_code == 401
