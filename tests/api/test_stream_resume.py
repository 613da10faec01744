"""Run streams: a client that disconnects mid-stream and reconnects with Last-Event-ID gets
exactly the missing events (no loss, no repeat); the run carries on while nobody listens
unless the client asked on_disconnect=cancel; cancel stops a run before its side effect."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.api.api_helpers import bearer
from tests.api.probe_graph import SPEC
from tests.api.sse import events

PROBE = {"api_graphs": SPEC, "api_run_lease_seconds": 1.5}


def _thread(api, auth) -> str:
    return httpx.post(f"{api.url}/threads", json={}, headers=auth).json()["thread_id"]


def _wait_status(api, auth, tid: str, rid: str, wanted: set[str], timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = httpx.get(f"{api.url}/threads/{tid}/runs/{rid}", headers=auth).json()["status"]
        if status in wanted:
            return status
        time.sleep(0.05)
    raise AssertionError(f"run {rid} never reached {wanted}")


@pytest.mark.parametrize("api", [PROBE], indirect=True)
def test_reconnect_with_last_event_id_gets_exactly_the_missing_events(api, tmp_path):
    auth = bearer(api.db, "engineer")
    tid = _thread(api, auth)
    body = {"assistant_id": "probe", "stream_mode": ["values", "updates", "custom"],
            "input": {"ticks": 12, "delay": 0.05, "out": str(tmp_path / "fx")}}
    seen: list[tuple[str, str, object]] = []
    with httpx.stream("POST", f"{api.url}/threads/{tid}/runs/stream", json=body,
                      headers=auth, timeout=30) as response:
        assert response.status_code == 200
        location = response.headers["location"]
        for item in events(response):
            seen.append(item)
            if len(seen) == 4:
                break  # drop the connection mid-run
    rid = seen[0][2]["run_id"]
    assert location == f"/threads/{tid}/runs/{rid}/stream"
    assert _wait_status(api, auth, tid, rid, {"success", "error"}) == "success"

    with httpx.stream("GET", f"{api.url}{location}", timeout=30,
                      headers={**auth, "Last-Event-ID": seen[-1][0]}) as response:
        rest = list(events(response))
    with httpx.stream("GET", f"{api.url}{location}", headers=auth, timeout=30) as response:
        everything = list(events(response))

    assert [i for i, _, _ in everything] == [f"{rid}:{n}" for n in range(len(everything))]
    assert seen + rest == everything  # exactly the missing ones: nothing lost, none twice
    # the unmodified SDK resumes the same way
    from langgraph_sdk import get_sync_client

    sdk = get_sync_client(url=api.url, headers=auth)
    joined = list(sdk.runs.join_stream(tid, rid, last_event_id=seen[-1][0]))
    assert [(p.id, p.event, p.data) for p in joined] == rest
    assert len(rest) > 5 and rest[-1][1] == "end"
    assert sum(1 for _, kind, _ in everything if kind == "custom") == 12
    # the run went on while nobody listened: its side effect happened once
    assert (tmp_path / "fx").read_text().splitlines() == [tid]


@pytest.mark.parametrize("api", [PROBE], indirect=True)
def test_disconnect_with_on_disconnect_cancel_stops_the_run(api, tmp_path):
    auth = bearer(api.db, "engineer")
    tid = _thread(api, auth)
    body = {"assistant_id": "probe", "on_disconnect": "cancel", "stream_mode": "custom",
            "input": {"ticks": 600, "delay": 0.1, "out": str(tmp_path / "fx")}}
    with httpx.stream("POST", f"{api.url}/threads/{tid}/runs/stream", json=body,
                      headers=auth, timeout=30) as response:
        first = next(events(response))
    rid = first[2]["run_id"]
    assert _wait_status(api, auth, tid, rid, {"interrupted", "success", "error"}) == \
        "interrupted"
    assert not (tmp_path / "fx").exists()  # cancelled before its side effect
    with httpx.stream("GET", f"{api.url}/threads/{tid}/runs/{rid}/stream", headers=auth,
                      timeout=30) as response:
        kinds = [kind for _, kind, _ in events(response)]
    assert kinds[-2:] == ["error", "end"]


@pytest.mark.parametrize("api", [PROBE], indirect=True)
def test_cancel_endpoint_stops_a_running_run(api, tmp_path):
    auth = bearer(api.db, "engineer")
    tid = _thread(api, auth)
    run = httpx.post(f"{api.url}/threads/{tid}/runs", headers=auth, json={
        "assistant_id": "probe", "input": {"ticks": 600, "delay": 0.1,
                                           "out": str(tmp_path / "fx")}}).json()
    _wait_status(api, auth, tid, run["run_id"], {"running"})
    cancelled = httpx.post(f"{api.url}/threads/{tid}/runs/{run['run_id']}/cancel",
                           headers=auth)
    assert cancelled.status_code == 200
    assert _wait_status(api, auth, tid, run["run_id"], {"interrupted", "success"}) == \
        "interrupted"
    assert not (tmp_path / "fx").exists()


@pytest.mark.parametrize("api", [{**PROBE, "api_sse_heartbeat_seconds": 0.3}], indirect=True)
def test_quiet_stream_gets_heartbeat_comments(api):
    auth = bearer(api.db, "engineer")
    tid = _thread(api, auth)
    body = {"assistant_id": "probe", "stream_mode": "values",  # the ticks are not sent
            "input": {"ticks": 15, "delay": 0.1}}
    with httpx.stream("POST", f"{api.url}/threads/{tid}/runs/stream", json=body,
                      headers=auth, timeout=30) as response:
        lines = list(response.iter_lines())
    assert sum(1 for line in lines if line.startswith(":")) >= 2, lines  # 1.5 s of quiet
    assert lines.index("event: end") > 0
