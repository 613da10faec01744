"""A handler that is slow on some events (a real uvicorn server): each slow delivery is
recorded as a timeout, like Stripe, and retried; its late answer is recorded; every other
lane keeps going; each object's events reach the handler in corpus order; and the state is
read only after the slow work has finished."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict

import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.server_thread import ServerThread
from tools.shadow.corpus import Corpus
from tools.shadow.faults import plan_for
from tools.shadow.replay import MAX_ATTEMPTS, BudgetSpent, Target, replay
from tools.shadow.sources import open_state

SLOW = 1.2  # seconds the handler takes on a slow event
TIMEOUT = 0.3  # the replayer's stand-in for Stripe's 10 s


def _corpus() -> Corpus:
    events = []
    for n in range(60):
        cus = f"cus_slowtest{n % 6:04d}"
        slow = cus == "cus_slowtest0002" and n < 12  # two slow events on one customer
        events.append({"id": f"evt_slowtest{n:05d}", "object": "event",
                       "type": "customer.updated", "created": 1_790_000_000 + n,
                       "data": {"object": {"id": cus, "object": "customer",
                                           "metadata": {"slow": "1" if slow else "0"}}}})
    return Corpus(events=tuple(events))


def _app() -> Starlette:
    arrivals: dict[str, list[str]] = defaultdict(list)
    applied: dict[str, list[str]] = defaultdict(list)

    async def hook(request: Request) -> JSONResponse:
        event = json.loads(await request.body())
        obj = event["data"]["object"]
        arrivals[obj["id"]].append(event["id"])
        if obj["metadata"]["slow"] == "1":
            await asyncio.sleep(SLOW)  # a courier API called inside the request
        if event["id"] not in applied[obj["id"]]:
            applied[obj["id"]].append(event["id"])
        return JSONResponse({"ok": True})

    async def state(request: Request) -> JSONResponse:
        return JSONResponse({"applied": [{"id": k, "events": v} for k, v in applied.items()],
                             "arrivals": dict(arrivals)})

    async def reset(request: Request) -> JSONResponse:
        arrivals.clear()
        applied.clear()
        return JSONResponse({"reset": True})

    return Starlette(routes=[Route("/hook", hook, methods=["POST"]),
                             Route("/state", state), Route("/reset", reset, methods=["POST"])])


@pytest.fixture
def slow_target():
    with ServerThread(_app()) as server:
        source = open_state(server.url + "/state", name="slow", reset=server.url + "/reset")
        yield Target(name="slow", url=server.url + "/hook", secret=SecretStr("whsec_x"),
                     state=source, timeout=TIMEOUT)


def test_slow_events_time_out_and_retry_while_other_lanes_go_on(slow_target):
    corpus = _corpus()
    capture = replay(slow_target, corpus, plan_for(corpus, None, 0), lanes=4)
    slow_ids = {e["id"] for e in corpus.events if e["data"]["object"]["metadata"]["slow"] == "1"}
    by_event: dict[str, list] = defaultdict(list)
    for a in capture.attempts:
        by_event[a.event_id].append(a)
    for event_id in slow_ids:  # a timeout is a failed delivery: retried, each one recorded
        attempts = by_event[event_id]
        assert len(attempts) == MAX_ATTEMPTS
        assert all(a.status is None and a.note.startswith("timeout") for a in attempts)
        assert all("answered 200" in a.note for a in attempts)  # the late answers
    for event_id, attempts in by_event.items():
        if event_id not in slow_ids:
            assert [a.status for a in attempts] == [200] and attempts[0].note is None
    # each object's events reached the handler in corpus order (first attempts)
    order = {k[2]: v for k, v in capture.state.items() if k[0] == "arrivals"}
    assert len(order) == 6
    for cus, seen in order.items():
        expected = [e["id"] for e in corpus.events if e["data"]["object"]["id"] == cus]
        first_seen = list(dict.fromkeys(seen))
        assert first_seen == expected
    # the state was read after the slow requests finished: their work is in it
    assert slow_ids <= set(capture.state[("applied", "cus_slowtest0002", "events")])
    print(f"wall time {capture.seconds:.2f} s for {len(capture.attempts)} attempts")


def test_a_spent_wall_time_budget_stops_the_replay(slow_target):
    corpus = _corpus()
    with pytest.raises(BudgetSpent):
        replay(slow_target, corpus, plan_for(corpus, None, 0), lanes=1, budget=0.5)
