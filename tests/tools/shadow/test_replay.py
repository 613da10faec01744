"""Identical candidate, unreachable candidate, broken corpus files, and the fault matrix."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from tests.conftest import free_port
from tools.shadow.corpus import load_corpus
from tools.shadow.engine import ReplayOptions, run_webhook_replay
from tools.shadow.errors import CorpusError
from tools.shadow.faults import FAULTS
from tools.shadow.invariants import MATRIX_INVARIANTS
from tools.shadow.models import Verdict
from tools.shadow.replay import Target


def test_identical_candidate_passes_and_noise_is_filtered(corpus, mapping, serve_handler):
    # The handlers stamp grants and receipts with the time they processed each event. A clock
    # that moves a second per event, shared by both, makes every run's stamps differ; with the
    # wall clock, two fast runs could fall in the same second and leave no noise to filter.
    ticks = itertools.count()

    def clock() -> datetime:
        return datetime.fromtimestamp(1_790_000_000 + next(ticks), UTC)

    with serve_handler("primary", clock=clock) as primary, \
            serve_handler("candidate", clock=clock) as candidate:
        report = run_webhook_replay(corpus, primary, candidate, mapping, ReplayOptions())
    assert report.verdict is Verdict.PASS, [m.detail for m in report.mismatches[:5]]
    assert report.mismatches == [] and report.state_diffs == []
    assert report.noise.primary_vs_primary > 0 and report.noise.removed > 0
    assert "entitlement.granted_at" in report.noise.fields


def test_unreachable_candidate_is_inconclusive(corpus, mapping, serve_handler):
    port = free_port()  # nothing listens there
    dead = Target(name="candidate", url=f"http://127.0.0.1:{port}/webhooks/stripe",
                  secret=SecretStr("whsec_x"))
    with serve_handler("primary") as primary:
        report = run_webhook_replay(corpus, primary, dead, mapping, ReplayOptions())
    assert report.verdict is Verdict.INCONCLUSIVE
    assert "candidate could not be reached" in report.reasons[0]
    assert f"127.0.0.1:{port}" in report.reasons[0]


def test_corpus_line_that_does_not_parse_is_named(tmp_path, corpus_path):
    lines = corpus_path.read_text().splitlines()
    lines.insert(2, '{"id": "evt_1", "type": ')
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(CorpusError, match=r"bad.jsonl line 3: not valid JSON"):
        load_corpus(bad)
    bad.write_text(lines[0] + "\n" + '{"id": "evt_2"}\n')
    with pytest.raises(CorpusError, match=r"line 2: not a Stripe event \(missing type"):
        load_corpus(bad)


def test_corpus_hash_is_content_hash(corpus, corpus_path, tmp_path):
    again = load_corpus(corpus_path)
    assert again.hash == corpus.hash and again.hash.startswith("sha256:")
    changed = tmp_path / "c.jsonl"
    changed.write_text(corpus_path.read_text().replace('"livemode":false', '"livemode":true', 1))
    assert load_corpus(changed).hash != corpus.hash


@pytest.mark.slow
def test_correct_handler_keeps_every_invariant_under_every_fault(corpus, mapping,
                                                                serve_handler):
    with serve_handler("primary", fixed_clock=True) as primary, \
            serve_handler("candidate", fixed_clock=True) as candidate:
        report = run_webhook_replay(corpus, primary, candidate, mapping,
                                    ReplayOptions(faults=list(FAULTS), seed=5))
    assert report.verdict is Verdict.PASS
    # each invariant, and the candidate against the primary under the same fault
    assert len(report.fault_matrix) == len(FAULTS) * (len(MATRIX_INVARIANTS) + 1)
    assert all(c.primary == "holds" and c.candidate == "holds" for c in report.fault_matrix)


# Buggy handlers each fault breaks an invariant for, and whether the fault is the cause
# (the invariant holds for that handler on the clean replay).
BREAKERS = [
    ({"bugs": "FM-03"}, ["duplicate", "timeout"], True),
    ({"bugs": "FM-02"}, ["reorder", "delay", "retry_after_5xx"], True),
    ({"tolerance": 30}, ["signature_skew"], True),  # a too-strict signature tolerance
    # FM-05: written for the 2025-03-31+ payload shape only (old shapes leave links empty)
    ({"bugs": "FM-05"}, ["api_version"], True),
]


@pytest.mark.slow
@pytest.mark.parametrize(("handler", "faults", "induced"), BREAKERS)
def test_each_fault_breaks_an_invariant_for_a_buggy_handler(handler, faults, induced, corpus,
                                                             mapping, serve_handler):
    with serve_handler("primary", fixed_clock=True) as primary, \
            serve_handler("candidate", fixed_clock=True, **handler) as candidate:
        report = run_webhook_replay(corpus, primary, candidate, mapping,
                                    ReplayOptions(faults=faults, seed=5))
    for fault in faults:
        cells = [c for c in report.fault_matrix if c.fault == fault]
        assert all(c.primary == "holds" for c in cells)
        broken = [c for c in cells if c.candidate == "broken"]
        assert broken, fault
        if induced:
            assert any(c.fault_induced for c in broken), (fault, broken)
        if handler.get("bugs") == "FM-05":  # the empty links, nothing else
            # (and, under the same fault, a state that differs from the primary's)
            assert {c.invariant for c in broken} == {"fields_follow_stripe",
                                                     "state_matches_primary"}, broken
