"""Run every detector over a request log and price each finding in calls per day."""

from __future__ import annotations

from collections.abc import Sequence

from tools.advisor.detectors import DETECTORS, EVIDENCE_CAP, Hit
from tools.advisor.model import Advice, AdviceFinding, RequestRecord, calls_per_day, window_seconds

__all__ = ["advise"]


def advise(records: Sequence[RequestRecord], *, source: str) -> Advice:
    # Stable by time then log order: detectors read "what came next".
    log = sorted(records, key=lambda r: r.at)
    window = window_seconds(log)
    findings = [_finding(hit, window) for detect in DETECTORS if (hit := detect(log))]
    return Advice(
        source=source, requests=len(log), first_at=log[0].at if log else None,
        last_at=log[-1].at if log else None, window_seconds=window, findings=findings)


def _finding(hit: Hit, window: int) -> AdviceFinding:
    saved, formula = calls_per_day(hit.avoidable, window)
    ids = [r.request_id for r in hit.records[:EVIDENCE_CAP]]
    more = len(hit.records) - len(ids)
    evidence = ids + ([f"… and {more} more request(s)"] if more > 0 else []) + hit.notes
    return AdviceFinding(
        kind=hit.kind, severity=hit.severity, summary=hit.summary,
        explanation=hit.explanation, fix=hit.fix, evidence=evidence,
        first_at=min(r.at for r in hit.records), last_at=max(r.at for r in hit.records),
        calls_observed=len(hit.records), avoidable_calls=hit.avoidable,
        calls_saved_per_day=saved, formula=formula)
