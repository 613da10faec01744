"""Fault plans model Stripe's delivery: independent latencies and retries per event."""

from __future__ import annotations

from collections import Counter

from tools.shadow.corpus import Corpus
from tools.shadow.faults import FAULTS, plan_for


def _corpus(n_objects: int = 12, snapshots: int = 4) -> Corpus:
    """Objects updated a few times each, seconds to minutes apart, interleaved."""
    events, t = [], 1_800_000_000
    for step in range(snapshots):
        for o in range(n_objects):
            t += 7 if o else 300
            events.append({"id": f"evt_{len(events):05d}", "type": "customer.updated",
                           "created": t, "data": {"object": {
                               "id": f"cus_{o:08d}", "object": "customer", "step": step}}})
    return Corpus(events=tuple(events))


def _arrival(plan) -> list[int]:
    return [d.index for d in plan]


def test_clean_plan_is_the_corpus_in_order():
    corpus = _corpus()
    assert _arrival(plan_for(corpus, None, 0)) == list(range(len(corpus)))


def test_plans_are_seeded():
    corpus = _corpus()
    for fault in FAULTS:
        assert plan_for(corpus, fault, 3) == plan_for(corpus, fault, 3)
    assert _arrival(plan_for(corpus, "reorder", 1)) != _arrival(plan_for(corpus, "reorder", 2))


def test_reorder_lets_any_event_overtake_an_earlier_one():
    # The old plan reversed fixed windows of 8: an object's last snapshot never arrived
    # before its previous one when they sat in different windows. Now latencies are
    # independent per event, so over seeds every object's last snapshot sometimes wins
    # the race against an older one, and some pairs far apart swap too.
    corpus = _corpus()
    last = {e["data"]["object"]["id"]: i for i, e in enumerate(corpus.events)}
    overtaken: Counter[str] = Counter()
    for seed in range(50):
        order = _arrival(plan_for(corpus, "reorder", seed))
        assert sorted(order) == list(range(len(corpus)))  # each once
        where = {index: pos for pos, index in enumerate(order)}
        for oid, i in last.items():
            older = [j for j, e in enumerate(corpus.events)
                     if e["data"]["object"]["id"] == oid and j < i]
            if any(where[j] > where[i] for j in older):
                overtaken[oid] += 1
    assert set(overtaken) == set(last), overtaken
    assert all(0 < n < 50 for n in overtaken.values())


def test_retries_are_planned_and_land_at_independent_distances():
    corpus = _corpus()
    for fault, flag in (("retry_after_5xx", "upstream_5xx"), ("timeout", "lose_answer")):
        plan = plan_for(corpus, fault, 4)
        failed = {pos: d.index for pos, d in enumerate(plan) if getattr(d, flag)}
        assert failed and all(plan[pos].retried for pos in failed)
        gaps = set()
        for pos, index in failed.items():
            later = [p for p, d in enumerate(plan) if d.index == index and p > pos]
            assert len(later) == 1  # exactly one planned retry, after the failure
            gaps.add(later[0] - pos)
        assert len(gaps) > 3  # not "after everything else"
        assert Counter(d.index for d in plan) == Counter(
            list(range(len(corpus))) + list(failed.values()))


def test_duplicates_and_delays_keep_every_event():
    corpus = _corpus()
    dup = Counter(d.index for d in plan_for(corpus, "duplicate", 0))
    assert set(dup) == set(range(len(corpus))) and 1 in dup.values() and 2 in dup.values()
    delayed = _arrival(plan_for(corpus, "delay", 0))
    assert sorted(delayed) == list(range(len(corpus))) and delayed != sorted(delayed)
