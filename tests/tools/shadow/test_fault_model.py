"""A correct handler is correct under every fault Stripe's delivery can produce: for 20
seeds, every fault plan leaves the sample handler's state exactly as the clean replay does
(no state difference) and breaks no invariant.

Plans are applied in-process (`apply_event`, one transaction per delivery, like the
served handler) so 20 seeds x 7 faults stay fast; the served path is covered by
test_replay.py and the foreign apps.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from sandbox.usersys.handler import apply_event
from sandbox.usersys.models import create_schema, make_engine
from tools.recon.adapter import open_user_system
from tools.shadow.faults import FAULTS, Delivery, plan_for
from tools.shadow.invariants import evaluate
from tools.shadow.replay import Attempt, Capture
from tools.shadow.state import read_state
from tools.shadow.truth import Policy, Truth
from tools.shadow.versions import OldShape

SEEDS = range(20)
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
# The handler's own log of deliveries: its outcome ('stale' for an older snapshot skipped)
# records what the delivery did, so it rightly depends on the order. Everything else is
# the business state and must not.
LOG = "processed_event"


def _apply(corpus, mapping, plan: list[Delivery], path) -> Capture:
    dsn = f"sqlite:///{path}"
    engine = make_engine(dsn)
    create_schema(engine)
    old = OldShape(corpus)
    attempts = []
    with Session(engine) as session:
        for pos, d in enumerate(plan):
            event = corpus.events[d.index]
            if d.upstream_5xx:  # never reached the handler; its retry is in the plan
                attempts.append(Attempt(position=pos, index=d.index, event_id=event["id"],
                                        event_type=event["type"], attempt=1, status=502,
                                        note="upstream 502"))
                continue
            if d.old_version:
                event, _ = old(event)
            outcome = apply_event(session, event, now=NOW)
            session.rollback() if outcome.status == "failed" else session.commit()
            attempts.append(Attempt(
                position=pos, index=d.index, event_id=event["id"], event_type=event["type"],
                attempt=1, status=500 if outcome.status == "failed" else 200,
                note="answer lost (timeout)" if d.lose_answer else None))
    engine.dispose()
    user = open_user_system(dsn, mapping)
    try:
        return Capture(target="correct", attempts=attempts, state=read_state(user))
    finally:
        user.engine.dispose()


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    """Scratch databases in memory-backed storage when the machine has it (a commit per
    delivery, 20 x 7 plans: disk syncs would dominate)."""
    shm = Path("/dev/shm")
    if not shm.is_dir():
        yield tmp_path
        return
    with tempfile.TemporaryDirectory(dir=shm, prefix="fde-fault-model-") as folder:
        yield Path(folder)


@pytest.mark.slow
@pytest.mark.parametrize("fault", FAULTS)
def test_correct_handler_has_no_state_difference_and_no_break_under_any_seed(
        fault, corpus, mapping, scratch):
    tmp_path = scratch
    truth = Truth(corpus, Policy())
    clean = _apply(corpus, mapping, plan_for(corpus, None, 0), tmp_path / "clean.db")
    assert clean.state
    for seed in SEEDS:
        plan = plan_for(corpus, fault, seed)
        capture = _apply(corpus, mapping, plan, tmp_path / f"{seed}.db")
        differ = sorted(k for k in clean.state.keys() | capture.state.keys()
                        if k[0] != LOG and clean.state.get(k) != capture.state.get(k))
        assert differ == [], (fault, seed, differ[:5])
        types = {p: corpus.events[d.index]["type"] for p, d in enumerate(plan)}
        broken = evaluate(corpus, truth, capture, types, mapping)
        assert broken == [], (fault, seed, [v.detail for v in broken[:5]])
