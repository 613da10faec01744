"""Every handler-layer bug switch, as candidate against the correct handler as primary,
makes the shadow run FAIL with a mismatch attributed to an event type the switch really
bent and to the invariant that switch breaks.

Ground truth comes from the sandbox, never from the tool: the event types are those for
which `apply_event` (run in-process over the same plans) reports a bug hit of the switch;
the invariants per switch are the failure modes' documented effects (sandbox/bugs.py).
"""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from sandbox.bugs import SWITCHES, handler_bugs
from sandbox.usersys.handler import apply_event
from sandbox.usersys.models import create_schema, make_engine
from tools.shadow.engine import ReplayOptions, run_webhook_replay
from tools.shadow.faults import plan_for
from tools.shadow.models import Verdict

HANDLER_SWITCHES = sorted(handler_bugs(SWITCHES))
FAULTS = ["duplicate", "delay"]  # the same for every switch
SEED = 3
# What each failure mode breaks, from its description in sandbox/bugs.py.
EXPECTED_INVARIANTS = {
    "FM-01": {"acknowledged"},
    "FM-02": {"entitlement_follows_subscription", "state_matches_primary",
              "status_follows_stripe"},
    "FM-03": {"one_fulfilment"},
    "FM-06": {"acknowledged"},
    "FM-10": {"entitlement_follows_subscription"},
    "FM-11": {"amounts_exact"},
    "FM-12": {"amounts_exact"},
    "FM-13": {"nothing_granted_while_processing", "refunded_value_revoked"},
    "FM-14": {"one_fulfilment", "state_matches_primary", "status_follows_stripe"},
    "FM-15": {"acknowledged"},
    "FM-16": {"state_matches_primary", "status_follows_stripe"},
    "FM-17": {"state_matches_primary", "status_follows_stripe"},
    "FM-19": {"entitlement_follows_subscription"},
    "FM-22": {"connect_scope"},
    "FM-24": {"state_matches_primary", "status_follows_stripe"},
    "FM-32": {"refunded_value_revoked"},
    "FM-33": {"entitlement_follows_subscription", "state_matches_primary"},
    "FM-34": {"entitlement_follows_subscription"},
}


def test_expectations_cover_every_handler_switch() -> None:
    assert set(EXPECTED_INVARIANTS) == set(HANDLER_SWITCHES)


def _bent_event_types(corpus, bug: str, tmp_path) -> set[str]:
    """Event types whose handling the switch changed, over the plans the run delivers."""
    from tools.shadow.versions import OldShape

    render_old = OldShape(corpus)

    types: set[str] = set()
    for fault in [None, *FAULTS]:
        engine = make_engine(f"sqlite:///{tmp_path / f'truth-{fault}.db'}")
        create_schema(engine)
        with Session(engine) as session:
            for d in plan_for(corpus, fault, SEED):
                event = corpus.events[d.index]
                if d.old_version:
                    event, _ = render_old(event)
                outcome = apply_event(session, event, bugs=frozenset({bug}))
                session.rollback() if outcome.status == "failed" else session.commit()
                if any(h.bug == bug for h in outcome.bug_hits):
                    types.add(event["type"])
        engine.dispose()
    if bug == "FM-01":  # played in the app (signature over re-serialised JSON): every type
        types = {e["type"] for e in corpus.events}
    return types


@pytest.fixture(scope="module")
def primary(serve_handler):
    with serve_handler("primary", fixed_clock=True) as target:
        yield target


@pytest.fixture(scope="module")
def primary_cache() -> dict:
    return {}


@pytest.mark.slow
@pytest.mark.parametrize("bug", HANDLER_SWITCHES)
def test_switch_fails_with_attribution(bug, corpus, mapping, serve_handler, primary,
                                       primary_cache, tmp_path) -> None:
    with serve_handler(f"candidate-{bug}", bugs=bug, fixed_clock=True) as candidate:
        report = run_webhook_replay(corpus, primary, candidate, mapping,
                                    ReplayOptions(faults=FAULTS, seed=SEED),
                                    cache=primary_cache)
    assert report.verdict is Verdict.FAIL, report.reasons
    assert not report.reasons  # the primary keeps every invariant
    bent = _bent_event_types(corpus, bug, tmp_path)
    hits = [m for m in report.mismatches
            if m.invariant in EXPECTED_INVARIANTS[bug] and m.event_type in bent]
    assert hits, (bug, sorted(bent), [(m.invariant, m.event_type, m.detail)
                                      for m in report.mismatches[:15]])
    assert all(m.repro.startswith("fde shadow run") and "--seed 3" in m.repro
               for m in report.top_mismatches)
