"""Concurrent delivery lanes: related events share a lane (so keep their order), and a
handler fed through lanes ends in the same state as one fed sequentially."""

from __future__ import annotations

from collections import defaultdict

from tools.shadow.faults import plan_for
from tools.shadow.lanes import split_lanes
from tools.shadow.replay import replay


def _customer(obj: dict) -> str | None:
    value = obj.get("customer")
    if isinstance(value, dict):
        value = value.get("id")
    return value or (obj.get("id") if obj.get("object") == "customer" else None)


def test_lanes_keep_each_customer_together_and_leave_the_same_state(corpus, serve_handler):
    plan = plan_for(corpus, "duplicate", 2)
    lanes = split_lanes(corpus, plan, 4)
    assert len(lanes) == 4
    assert sorted(p for lane in lanes for p in lane) == list(range(len(plan)))
    assert all(lane == sorted(lane) for lane in lanes)  # plan order inside a lane
    lane_of = {p: n for n, lane in enumerate(lanes) for p in lane}
    seen: dict[str, set[int]] = defaultdict(set)
    for pos, d in enumerate(plan):
        customer = _customer(corpus.events[d.index]["data"]["object"])
        if customer:
            seen[customer].add(lane_of[pos])
    assert seen and all(len(lanes_of) == 1 for lanes_of in seen.values())
    with serve_handler("sequential", fixed_clock=True) as a, \
            serve_handler("lanes", fixed_clock=True) as b:
        one = replay(a, corpus, plan)
        four = replay(b, corpus, plan, lanes=4)
    assert len(four.attempts) == len(one.attempts)
    assert four.state == one.state
