"""A run's outcome over HTTP (real uvicorn): a failed run says why in `error` (the list and
the single run), and a triage run works once the pattern library is indexed."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.agents.tickets import TICKETS
from tests.api.api_helpers import bearer


def _run_and_list(api, auth: dict[str, str], body: dict) -> tuple[str, dict, list[dict]]:
    tid = httpx.post(f"{api.url}/threads", json={}, headers=auth).json()["thread_id"]
    values = httpx.post(f"{api.url}/threads/{tid}/runs/wait", headers=auth, timeout=300,
                        json=body).json()
    runs = httpx.get(f"{api.url}/threads/{tid}/runs", headers=auth).json()
    return tid, values, runs


def test_a_failed_run_says_why(api):
    auth = bearer(api.db, "engineer")
    tid, _, runs = _run_and_list(api, auth, {"assistant_id": "triage",
                                             "input": {"ticket": "charged twice"}})
    assert [r["status"] for r in runs] == ["error"]
    assert "names no engagement" in runs[0]["error"], runs[0]
    one = httpx.get(f"{api.url}/threads/{tid}/runs/{runs[0]['run_id']}", headers=auth).json()
    assert one["error"] == runs[0]["error"]


@pytest.mark.slow
def test_triage_runs_with_the_pattern_library_indexed(api, demo_engagement,
                                                      pattern_index: Path,
                                                      monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FDE_CHROMA_PATH", str(pattern_index))  # after `fde knowledge index`
    auth = bearer(api.db, "engineer")
    _, values, runs = _run_and_list(api, auth, {
        "assistant_id": "triage",
        "input": {"ticket": TICKETS["FM-15"], "engagement": demo_engagement}})
    assert [(r["status"], r["error"]) for r in runs] == [("interrupted", None)], runs
    assert values["diagnosis"]["failure_mode"] == "FM-15"
    assert values["diagnosis"]["pattern_refs"]  # the index was searched
