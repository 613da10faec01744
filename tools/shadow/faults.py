"""Fault injection: a corpus turned into a delivery plan the way Stripe (or the network)
misbehaves. Seeded: the same corpus, fault and seed always give the same plan, so a
failing cell replays exactly (`fde shadow run ... --fault F --seed N`).

    duplicate        a sample delivered twice, back to back (at-least-once delivery)
    reorder          windows of `REORDER_WINDOW` events (seeded offset) delivered newest first
                     (no ordering guarantee; reversal makes every in-window pair swap)
    delay            a sample of events held back and delivered after all the others
    retry_after_5xx  a sample's first attempt fails upstream (502, never reaches the handler);
                     Stripe retries after the rest have been delivered
    timeout          a sample's first attempt is processed but the answer comes too late;
                     Stripe retries after the rest (a late duplicate)
    signature_skew   every delivery signed with a timestamp off by up to `MAX_SKEW` seconds
                     (clock drift between Stripe and the handler, inside Stripe's 300 s
                     tolerance)
    api_version      a sample rendered in an older API version's shape (`versions.py`)
"""

from __future__ import annotations

import random
from typing import Literal, get_args

from pydantic import BaseModel

from tools.shadow.corpus import Corpus
from tools.shadow.errors import CorpusError

__all__ = ["FAULTS", "Delivery", "Fault", "check_faults", "plan_for"]

# Samples are drawn per event type (at least one event of every type), so a small corpus
# still exercises every kind of event under the fault.
Fault = Literal["duplicate", "reorder", "delay", "retry_after_5xx", "timeout",
                "signature_skew", "api_version"]
FAULTS: tuple[str, ...] = get_args(Fault)
REORDER_WINDOW = 8
MAX_SKEW = 240
SAMPLE_RATE = 0.5


class Delivery(BaseModel):
    """One planned delivery of corpus event `index`."""

    index: int
    skew: int = 0  # seconds added to the signature timestamp
    old_version: bool = False
    upstream_5xx: bool = False  # first attempt answered 502 before reaching the handler
    lose_answer: bool = False  # first attempt processed, answer lost (timeout)


def check_faults(names: list[str]) -> list[str]:
    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        raise CorpusError(f"unknown fault {', '.join(map(repr, unknown))}; valid faults: "
                          + ", ".join(FAULTS), hint="pass --fault NAME (repeatable) or 'all'")
    return names


def _rng(corpus: Corpus, fault: str, seed: int) -> random.Random:
    # Positions only (not the corpus bytes): re-recording the same story gives the same plan.
    return random.Random(f"{len(corpus.events)}:{fault}:{seed}")


def plan_for(corpus: Corpus, fault: str | None, seed: int) -> list[Delivery]:
    """The delivery plan; `fault=None` is the clean replay (corpus order, once each)."""
    n = len(corpus.events)
    plan = [Delivery(index=i) for i in range(n)]
    if fault is None:
        return plan
    check_faults([fault])
    rng = _rng(corpus, fault, seed)
    by_type: dict[str, list[int]] = {}
    for i, event in enumerate(corpus.events):
        by_type.setdefault(event["type"], []).append(i)
    sample = sorted(i for _, idx in sorted(by_type.items())
                    for i in rng.sample(idx, max(1, round(len(idx) * SAMPLE_RATE))))
    if fault == "duplicate":
        twice = set(sample)
        return [d for i in range(n) for d in [plan[i]] * (2 if i in twice else 1)]
    if fault == "reorder":
        offset = rng.randrange(REORDER_WINDOW)
        starts = [0, *range(offset or REORDER_WINDOW, n, REORDER_WINDOW)]
        return [d for a, b in zip(starts, [*starts[1:], n], strict=True)
                for d in reversed(plan[a:b])]
    if fault == "delay":
        held = set(sample)
        return [d for d in plan if d.index not in held] + [plan[i] for i in sample]
    if fault == "retry_after_5xx":
        return [d.model_copy(update={"upstream_5xx": d.index in set(sample)}) for d in plan]
    if fault == "timeout":
        return [d.model_copy(update={"lose_answer": d.index in set(sample)}) for d in plan]
    if fault == "signature_skew":
        return [d.model_copy(update={"skew": rng.randint(-MAX_SKEW, MAX_SKEW)}) for d in plan]
    return [d.model_copy(update={"old_version": d.index in set(sample)}) for d in plan]
