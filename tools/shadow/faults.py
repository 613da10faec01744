"""Fault injection: a corpus turned into a delivery plan the way Stripe delivers it when
things go wrong. Seeded: the same corpus, fault and seed always give the same plan, so a
failing cell replays exactly (`fde shadow run ... --only F --seed N`).

Delivery is modelled as Stripe does it, per event and independently: each delivery
attempt of event *i* arrives at ``t_i + latency`` on the corpus's own clock (``t_i``: the
event's ``created``, made monotone), and the plan is every attempt sorted by arrival. With
no fault every latency is 0 and the plan is the corpus in order. Stripe promises no order,
retries a failed attempt with back-off (minutes to hours) and may deliver an event more
than once, so under these faults any event can arrive before any earlier one, including
the last snapshot of an object ahead of an older one.

    duplicate        a sample is delivered a second time, after a retry back-off
    reorder          every event arrives after its own latency: a jitter (exponential, mean
                     `JITTER_MEAN` s: events close in time swap) and, for `LATE_RATE` of
                     them, a retry back-off (a first attempt that failed on the way): those
                     arrive after events minutes to hours newer
    delay            a sample is held back for a latency drawn between `BACKOFF` bounds
    retry_after_5xx  a sample's first attempt fails upstream (502, never reaches the
                     handler); Stripe's retry arrives after a back-off
    timeout          a sample's first attempt is processed but its answer comes too late;
                     Stripe's retry (a late duplicate) arrives after a back-off
    signature_skew   every delivery signed with a timestamp off by up to `MAX_SKEW` seconds
                     (clock drift, inside Stripe's 300 s tolerance)
    api_version      a sample rendered in the shape of the API version before the
                     corpus's own (`versions.py`); a corpus older than every known change
                     has no older shape and the fault leaves it as it is

Back-offs are log-uniform between `BACKOFF` bounds (a minute to three hours: Stripe's first
retries), so some retries land among the next few events and some far behind.
"""

from __future__ import annotations

import math
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
JITTER_MEAN = 60.0
LATE_RATE = 0.25
BACKOFF = (60.0, 3 * 3600.0)
MAX_SKEW = 240
SAMPLE_RATE = 0.5


class Delivery(BaseModel):
    """One planned delivery attempt of corpus event `index`."""

    index: int
    skew: int = 0  # seconds added to the signature timestamp
    old_version: bool = False
    upstream_5xx: bool = False  # answered 502 before reaching the handler
    lose_answer: bool = False  # processed, but the answer is lost (timeout)
    retried: bool = False  # the plan holds this attempt's retry: the replayer adds none


def check_faults(names: list[str]) -> list[str]:
    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        raise CorpusError(f"unknown fault {', '.join(map(repr, unknown))}; valid faults: "
                          + ", ".join(FAULTS), hint="pass --fault NAME (repeatable) or 'all'")
    return names


def _rng(corpus: Corpus, fault: str, seed: int) -> random.Random:
    # Positions only (not the corpus bytes): re-recording the same story gives the same plan.
    return random.Random(f"{len(corpus.events)}:{fault}:{seed}")


def _clock(corpus: Corpus) -> list[float]:
    """Each event's time on the corpus clock, never going back (a corpus in file order)."""
    out: list[float] = []
    now = -math.inf
    for event in corpus.events:
        now = max(now, float(event.get("created") or 0))
        out.append(now)
    return out


def _backoff(rng: random.Random) -> float:
    low, high = BACKOFF
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _sample(corpus: Corpus, rng: random.Random) -> set[int]:
    by_type: dict[str, list[int]] = {}
    for i, event in enumerate(corpus.events):
        by_type.setdefault(event["type"], []).append(i)
    return {i for _, idx in sorted(by_type.items())
            for i in rng.sample(idx, max(1, round(len(idx) * SAMPLE_RATE)))}


def plan_for(corpus: Corpus, fault: str | None, seed: int) -> list[Delivery]:
    """The delivery plan; `fault=None` is the clean replay (corpus order, once each)."""
    n = len(corpus.events)
    if fault is None:
        return [Delivery(index=i) for i in range(n)]
    check_faults([fault])
    rng = _rng(corpus, fault, seed)
    sample = _sample(corpus, rng)
    clock = _clock(corpus)
    # (arrival time, order among equal times, delivery): originals keep corpus order on a
    # tie; a later attempt of an event sorts after every original of the same instant.
    timed: list[tuple[float, int, Delivery]] = []
    for i in range(n):
        t, hit = clock[i], i in sample
        if fault == "reorder":
            late = _backoff(rng) if rng.random() < LATE_RATE else 0.0
            timed.append((t + rng.expovariate(1 / JITTER_MEAN) + late, i, Delivery(index=i)))
        elif fault == "delay" and hit:
            timed.append((t + _backoff(rng), n + i, Delivery(index=i)))
        elif fault == "duplicate" and hit:
            timed.append((t, i, Delivery(index=i)))
            timed.append((t + _backoff(rng), n + i, Delivery(index=i)))
        elif fault in ("retry_after_5xx", "timeout") and hit:
            flag = "upstream_5xx" if fault == "retry_after_5xx" else "lose_answer"
            timed.append((t, i, Delivery(index=i, retried=True, **{flag: True})))
            timed.append((t + _backoff(rng), n + i, Delivery(index=i)))
        elif fault == "signature_skew":
            timed.append((t, i, Delivery(index=i, skew=rng.randint(-MAX_SKEW, MAX_SKEW))))
        elif fault == "api_version" and hit:
            timed.append((t, i, Delivery(index=i, old_version=True)))
        else:
            timed.append((t, i, Delivery(index=i)))
    timed.sort(key=lambda x: (x[0], x[1]))
    return [d for _, _, d in timed]
