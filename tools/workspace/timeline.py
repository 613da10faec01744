"""The engagement's timeline: everything that happened to it, merged by time.

Each room keeps its own record; this module reads them and turns every record into
`TimelineEntry`s. Rooms of the tools layer are read through their stores. Two sources
live above this layer or may be absent from an older database — the autopilot's cases
(agents/autopilot) and the API's escalation queue — and are read by table name, only when
the table exists, so the timeline never imports upward and works on any schema revision.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import MetaData, Table, func, inspect, select
from sqlalchemy.orm import Session

from core import engagements
from tools.blueprints.state import STARTED
from tools.blueprints.state import items as blueprint_items
from tools.checks.store import list_findings
from tools.design.store import list_designs
from tools.recon.store import list_runs as list_recon_runs
from tools.workspace import reviews, store
from tools.workspace.models import EntryKind, TimelineEntry
from tools.workspace.store import aware

__all__ = ["CASES_TABLE", "ESCALATIONS_TABLE", "SHADOW_TABLE", "timeline"]

CASES_TABLE = "autopilot_cases"
ESCALATIONS_TABLE = "api_escalations"
SHADOW_TABLE = "shadow_runs"
_RUNS_READ = 500  # recon/shadow runs per engagement; older ones stay in their own lists


def _reflect(session: Session, name: str) -> Table | None:
    bind = session.get_bind()
    if not inspect(bind).has_table(name):
        return None
    return Table(name, MetaData(), autoload_with=bind)


def _findings(session: Session, engagement: str) -> Iterable[TimelineEntry]:
    for f in list_findings(session, engagement, include_resolved=True):
        if f.first_seen is None:
            continue
        yield TimelineEntry(
            at=aware(f.first_seen), kind="finding", ref=f.id,
            title=f"{f.severity} finding {f.failure_mode or f.check}: {f.check}",
            body=f"{f.summary}\nfix: {f.fix}\nevidence: {', '.join(f.evidence)}",
            status="resolved" if f.resolved_at else "open")


def _recon(session: Session, engagement: str) -> Iterable[TimelineEntry]:
    for run in list_recon_runs(session, engagement=engagement, limit=_RUNS_READ):
        counts = ", ".join(f"{k} {v}" for k, v in sorted((run["counts"] or {}).items()))
        yield TimelineEntry(at=aware(run["started_at"]), kind="recon", ref=run["id"],
                            title=f"reconciliation {run['verdict']}",
                            body=counts or "no discrepancies", status=run["verdict"])


def _designs(session: Session, engagement: str) -> Iterable[TimelineEntry]:
    for d in list_designs(session, engagement):
        refs = ", ".join(r.ref for r in d.draft.recommendations)
        yield TimelineEntry(at=aware(d.created_at), kind="design", ref=d.id,
                            title=f"design draft for {d.requirements.name}",
                            body=f"recommends {refs}" if refs else "", status=d.status,
                            actor=d.created_by)
        if d.approved_at:
            yield TimelineEntry(at=aware(d.approved_at), kind="design", ref=d.id,
                                title=f"design for {d.requirements.name} approved",
                                status="approved", actor=d.approved_by)


def _cases(session: Session, engagement: str) -> Iterable[TimelineEntry]:
    table = _reflect(session, CASES_TABLE)
    if table is None:
        return
    for r in session.execute(select(table).where(table.c.engagement == engagement)):
        title = f"autopilot case {r.kind} on {r.object_id}"
        yield TimelineEntry(at=aware(r.first_seen), kind="case", ref=r.id, title=title,
                            body=r.summary or "", status=r.status)
        if r.closed_at:
            yield TimelineEntry(at=aware(r.closed_at), kind="case", ref=r.id,
                                title=f"{title} closed", status=r.status)


def _escalations(session: Session, engagement: str) -> Iterable[TimelineEntry]:
    table = _reflect(session, ESCALATIONS_TABLE)
    if table is None:
        return
    for r in session.execute(select(table).where(table.c.engagement == engagement)):
        yield TimelineEntry(at=aware(r.created_at), kind="escalation", ref=r.id,
                            title=f"{r.severity} escalation: {r.summary}"[:300],
                            body=r.summary or "", status=r.status)
        if r.decided_at:
            decision = r.decision if isinstance(r.decision, dict) else {}
            what = decision.get("type") or r.status
            yield TimelineEntry(at=aware(r.decided_at), kind="escalation_decision", ref=r.id,
                                title=f"escalation decided: {what}",
                                body=str(decision.get("message") or ""), status=r.status,
                                actor=r.decided_by)


def _blueprints(session: Session, engagement: str) -> Iterable[TimelineEntry]:
    t = blueprint_items
    rows = session.execute(
        select(t.c.approval, t.c.blueprint, t.c.status, func.count(),
               func.max(t.c.applied_at))
        .where(t.c.engagement == engagement, t.c.item_key != STARTED)
        .group_by(t.c.approval, t.c.blueprint, t.c.status))
    applies: dict[str, dict[str, Any]] = {}
    for approval, blueprint, status, count, last in rows:
        entry = applies.setdefault(approval, {"blueprint": blueprint, "counts": {}, "at": last})
        entry["counts"][status] = count
        entry["at"] = max(entry["at"], last)
    for approval, a in applies.items():
        counts = ", ".join(f"{n} {s}" for s, n in sorted(a["counts"].items()))
        outcome = "apply failed" if a["counts"].get("failed") else "applied"
        yield TimelineEntry(at=aware(a["at"]), kind="blueprint_apply", ref=approval,
                            title=f"blueprint {a['blueprint']} {outcome}", body=counts,
                            status="failed" if a["counts"].get("failed") else "done")


def _shadow(session: Session, engagement: str) -> Iterable[TimelineEntry]:
    table = _reflect(session, SHADOW_TABLE)
    if table is None:
        return
    rows = session.execute(select(table).where(table.c.engagement == engagement)
                           .order_by(table.c.started_at.desc()).limit(_RUNS_READ))
    for r in rows:
        yield TimelineEntry(
            at=aware(r.started_at), kind="shadow_run", ref=r.id,
            title=f"shadow run {r.mode} {r.verdict}",
            body=f"{r.primary_name} vs {r.candidate_name}: {r.mismatches} mismatches",
            status=r.verdict)


def _workspace(session: Session, engagement: str) -> Iterable[TimelineEntry]:
    for n in store.list_notes(session, engagement):
        yield TimelineEntry(at=n.met_at, kind="note", ref=n.id, title=f"meeting: {n.title}",
                            body=n.body, actor=n.created_by)
    for d in store.list_decisions(session, engagement):
        alternatives = "; ".join(o.name for o in d.alternatives)
        yield TimelineEntry(
            at=d.created_at, kind="decision", ref=d.id,
            title=f"decision {d.number}: {d.title}",
            body=f"{d.context}\n{d.decision}" + (f"\nalternatives: {alternatives}"
                                                 if alternatives else ""),
            status=d.status, actor=", ".join(d.decided_by))
        if d.accepted_at:
            yield TimelineEntry(at=d.accepted_at, kind="decision_accepted", ref=d.id,
                                title=f"decision {d.number} accepted: {d.title}",
                                status="accepted", actor=d.accepted_by)
    for run in reviews.list_reviews(session, engagement):
        version = f" (map v{run.map_version})" if run.map_version else ""
        yield TimelineEntry(at=run.created_at, kind="review", ref=run.id,
                            title=f"architecture review{version}: {run.violations} violated "
                                  "item(s)", actor=run.created_by)


_SOURCES: tuple[Callable[[Session, str], Iterable[TimelineEntry]], ...] = (
    _findings, _recon, _designs, _cases, _escalations, _blueprints, _shadow, _workspace)


def timeline(session: Session, engagement: str, *, kinds: set[EntryKind] | None = None,
             since: datetime | None = None) -> list[TimelineEntry]:
    """Every entry of the engagement, oldest first (ties in a stable kind/ref order)."""
    engagements.get(session, engagement)
    entries = [e for source in _SOURCES for e in source(session, engagement)
               if (kinds is None or e.kind in kinds) and (since is None or e.at >= aware(since))]
    return sorted(entries, key=lambda e: (e.at, e.kind, e.ref))
