"""Reading what the field saw: open findings, the latest reconciliation run of each
engagement, and escalations when the API's escalation table exists (it is optional: signals
work from findings and discrepancies alone)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import MetaData, Table, inspect, select, text
from sqlalchemy.orm import Session

from knowledge.signals.classify import category_for
from knowledge.signals.model import Occurrence
from tools.checks.store import list_findings
from tools.recon.models import ReconRun
from tools.recon.store import list_runs, load_run

__all__ = ["ESCALATIONS_TABLE", "read_escalations", "read_occurrences"]

ESCALATIONS_TABLE = "api_escalations"


def _aware(value: datetime | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _engagements(session: Session) -> list[str]:
    names: set[str] = set()
    for table in ("check_findings", "recon_runs"):
        names.update(r[0] for r in session.execute(
            text(f"SELECT DISTINCT engagement FROM {table} WHERE engagement IS NOT NULL")))
    return sorted(names)


def _findings(session: Session, engagement: str) -> list[Occurrence]:
    out = []
    for f in list_findings(session, engagement):
        signal = f.failure_mode or f.check
        amount = f.details.get("amount_minor")
        currency = f.details.get("currency")
        out.append(Occurrence(
            source="finding", engagement=engagement, signal=signal, title=f.check,
            category=category_for(signal), products=f.products, evidence=f.evidence,
            summary=f.summary, amount_minor=amount if isinstance(amount, int) else None,
            currency=currency if isinstance(currency, str) else None,
            seen_at=_aware(f.first_seen)))
    return out


def _discrepancies(run: ReconRun) -> list[Occurrence]:
    out = []
    for d in run.discrepancies:
        if d.pending:  # pending is not a break (DESIGN §6)
            continue
        signal = d.class_.value
        evidence = [*d.evidence.stripe, *d.evidence.local] or [
            i for i in (d.stripe_id, d.local_key) if i]
        impact = d.money_impact if d.money_impact is not None else d.amount_minor
        out.append(Occurrence(
            source="discrepancy", engagement=run.engagement or "", signal=signal,
            title=signal, category=category_for(signal), products=[d.entity],
            evidence=evidence, summary=d.reason or f"{signal} on {d.entity}",
            amount_minor=impact, currency=d.currency, seen_at=_aware(run.started_at)))
    return out


def read_escalations(session: Session) -> list[dict[str, Any]] | None:
    """Rows of the escalation queue, or None when this database has no such table yet."""
    bind = session.get_bind()
    if not inspect(bind).has_table(ESCALATIONS_TABLE):
        return None
    table = Table(ESCALATIONS_TABLE, MetaData(), autoload_with=bind)
    return [dict(r._mapping) for r in session.execute(select(table))]


def _escalation(row: dict[str, Any]) -> Occurrence | None:
    engagement = row.get("engagement")
    if not engagement:
        return None
    payload = row.get("payload") or {}
    diagnosis = payload.get("diagnosis") if isinstance(payload, dict) else None
    fm = (diagnosis or {}).get("failure_mode") if isinstance(diagnosis, dict) else None
    signal = fm or f"escalation.{row.get('product') or 'unknown'}"
    evidence = (diagnosis or {}).get("evidence") if isinstance(diagnosis, dict) else None
    return Occurrence(
        source="escalation", engagement=engagement, signal=signal, title=signal,
        category=category_for(signal), products=[row["product"]] if row.get("product") else [],
        evidence=[str(e) for e in evidence or []][:5] or [str(row.get("id"))],
        summary=str(row.get("summary") or ""), amount_minor=row.get("money_minor"),
        currency=row.get("currency"), seen_at=_aware(row.get("created_at")))


def read_occurrences(session: Session) -> tuple[list[Occurrence], list[str], bool]:
    """(occurrences, engagements seen, whether escalations could be read)."""
    engagements = _engagements(session)
    found: list[Occurrence] = []
    for name in engagements:
        found += _findings(session, name)
        latest = list_runs(session, engagement=name, limit=1)
        if latest:
            found += _discrepancies(load_run(session, latest[0]["id"]))
    rows = read_escalations(session)
    for row in rows or []:
        occ = _escalation(row)
        if occ is not None:
            found.append(occ)
            if occ.engagement not in engagements:
                engagements.append(occ.engagement)
    return found, sorted(engagements), rows is not None
