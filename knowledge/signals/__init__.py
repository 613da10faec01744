"""Roadmap signals: findings, discrepancies and escalations across engagements, aggregated
into integration gaps, migration friction and multi-product failures for product teams."""

from datetime import datetime

from sqlalchemy.orm import Session

from knowledge.signals.aggregate import build_report
from knowledge.signals.html import to_html
from knowledge.signals.model import Signal, SignalReport
from knowledge.signals.render import to_csv, to_markdown
from knowledge.signals.sources import read_occurrences

__all__ = ["Signal", "SignalReport", "collect_signals", "to_csv", "to_html", "to_markdown"]


def collect_signals(session: Session, *, now: datetime | None = None) -> SignalReport:
    occurrences, engagements, escalations = read_occurrences(session)
    return build_report(occurrences, engagements, escalations_read=escalations, now=now)
