"""Occurrences → signals: counts, engagements, money per currency, exemplars and trend."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

from knowledge.signals.model import (
    CATEGORIES,
    CategoryTotal,
    Exemplar,
    Occurrence,
    Signal,
    SignalReport,
    Trend,
)

__all__ = ["WEEKS", "build_report"]

WEEKS = 8
_EXEMPLARS = 3


def _week_start(moment: datetime) -> datetime:
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def _trend(weekly: list[int]) -> Trend:
    """The last four weeks against the four before: is this getting worse or better?"""
    half = len(weekly) // 2
    recent, before = sum(weekly[half:]), sum(weekly[:half])
    if recent and not before:
        return "new"
    if recent > before:
        return "rising"
    if recent < before:
        return "falling"
    return "steady"


def _money(items: list[Occurrence]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for o in items:
        if o.amount_minor is not None and o.currency:
            out[o.currency.lower()] += abs(o.amount_minor)
    return dict(sorted(out.items()))


def _signal(key: str, items: list[Occurrence], weeks: list[datetime]) -> Signal:
    by_engagement = Counter(o.engagement for o in items)
    weekly = [0] * len(weeks)
    for o in items:
        start = _week_start(o.seen_at)
        index = weeks.index(start) if start in weeks else (0 if start < weeks[0] else -1)
        weekly[index] += 1
    # one exemplar per engagement first, so the evidence shows the breadth of the signal
    exemplars: list[Exemplar] = []
    for name in sorted(by_engagement):
        o = next(o for o in items if o.engagement == name)
        exemplars.append(Exemplar(engagement=name, source=o.source, summary=o.summary[:240],
                                  evidence=o.evidence[:5]))
    titles = Counter(o.title for o in items)
    return Signal(
        id=key, title=titles.most_common(1)[0][0], category=items[0].category, count=len(items),
        by_source=dict(Counter(o.source for o in items)), engagements=sorted(by_engagement),
        by_engagement=dict(sorted(by_engagement.items())),
        products=sorted({p for o in items for p in o.products}), money_impact=_money(items),
        exemplars=exemplars[:_EXEMPLARS], weekly=weekly, trend=_trend(weekly))


def build_report(occurrences: list[Occurrence], engagements: list[str], *,
                 escalations_read: bool, now: datetime | None = None) -> SignalReport:
    now = now or datetime.now(UTC)
    last = _week_start(now)
    weeks = [last - timedelta(weeks=n) for n in range(WEEKS - 1, -1, -1)]
    grouped: dict[str, list[Occurrence]] = defaultdict(list)
    for o in occurrences:
        grouped[o.signal].append(o)
    signals = sorted((_signal(k, v, weeks) for k, v in grouped.items()),
                     key=lambda s: (-s.count, s.id))
    totals = []
    for category in CATEGORIES:
        members = [o for o in occurrences if o.category == category]
        totals.append(CategoryTotal(
            category=category, count=len(members),
            signals=sum(1 for s in signals if s.category == category),
            engagements=sorted({o.engagement for o in members}), money_impact=_money(members)))
    return SignalReport(
        generated_at=now, engagements=engagements,
        sources=dict(Counter(o.source for o in occurrences)), escalations_read=escalations_read,
        categories=totals, signals=signals,
        weeks=[w.strftime("%G-W%V") for w in weeks])
