"""The autopilot's escalations in the API's escalation queue, and the way back.

`ApiEscalationSink` is the autopilot's `EscalationSink` when it runs inside `fde serve`: an
escalated case becomes an item of the one queue engineers already work (`/escalations`,
`fde queue`, the console), carrying the case id, its evidence and the proposed repair. There
is no paused graph behind it, so a final decision is not a resume run: `feed_back` hands it
to the case (`agents.autopilot.decisions`), at most once per escalation.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from agents.autopilot.cases import Case, set_status
from agents.autopilot.decisions import CaseDecision, DecisionOutcome, apply_decision
from agents.autopilot.sink import EscalationPayload
from api import escalations as queue
from api.tables import escalations
from core.ids import new_id
from core.logging import get_logger
from core.redact import redact_secrets
from core.settings import Settings
from core.storage import Database

__all__ = ["AUTOPILOT", "ApiEscalationSink", "feed_back", "feed_back_pending"]

AUTOPILOT = "autopilot"
"""The escalation's assistant_id: marks the items whose decision goes to a case."""

log = get_logger("autopilot")


def _thread(case_id: str) -> str:
    return f"{AUTOPILOT}-{case_id}"


def _queue_payload(payload: EscalationPayload) -> dict[str, Any]:
    """The HITL payload, with each proposed repair also listed among the diagnosis' actions
    with its tier and amount: that is where the queue reads which approvals are money
    approvals (approver role; two approvers above FDE_API_TWO_APPROVER_MAJOR)."""
    body = payload.model_dump(mode="json")
    diagnosis = dict(body.get("diagnosis") or {})
    actions = list(diagnosis.get("actions") or [])
    for request in payload.action_requests:
        tier = request.args.get("tier")
        if not request.name.startswith("repair.") or tier is None:
            continue
        args = {**request.args}
        if tier == "money" and payload.money_minor is not None and payload.currency:
            args |= {"amount": abs(payload.money_minor), "currency": payload.currency}
        actions.append({"name": request.name, "args": args, "tier": tier,
                        "description": request.description})
    body["diagnosis"] = diagnosis | {"actions": actions}
    return body


class ApiEscalationSink:
    """One open queue item per case: a case escalated again while its item is still open
    (re-opened, or re-escalated after a repair) keeps that item instead of adding another."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def escalate(self, session: Session, case: Case, payload: EscalationPayload, *,
                 now: datetime) -> Case:
        thread = _thread(case.id)
        open_id = session.scalar(sa.select(escalations.c.id).where(
            escalations.c.thread_id == thread, escalations.c.status != "decided"))
        if open_id is None:
            interrupt = new_id("apint")
            queue.open_for_interrupt(
                session, thread_id=thread, run_id=case.id, assistant_id=AUTOPILOT,
                interrupt_id=interrupt, value=_queue_payload(payload),
                values={"engagement": case.engagement}, settings=self.settings)
            open_id = session.scalar(sa.select(escalations.c.id).where(
                escalations.c.thread_id == thread, escalations.c.interrupt_id == interrupt))
        return set_status(session, case.id, "escalated", escalated_at=now,
                          escalation=payload.model_dump(mode="json") | {"queue_id": open_id})


def feed_back(settings: Settings, db: Database, escalation_id: str) -> DecisionOutcome | None:
    """Apply a decided autopilot escalation to its case; None when it is not one, is not
    decided yet, or was already handed over (the claim is a conditional update)."""
    with db.session() as session:
        row = session.execute(sa.select(escalations).where(
            escalations.c.id == escalation_id)).first()
        if row is None or row.assistant_id != AUTOPILOT or row.status != "decided":
            return None
        case_id = row.payload["case_id"]
        claimed = session.execute(escalations.update().where(
            escalations.c.id == escalation_id, escalations.c.resume_run_id.is_(None))
            .values(resume_run_id=f"case:{case_id}")).rowcount
    if not claimed:
        return None
    decision = CaseDecision(**{k: row.decision.get(k) for k in ("type", "action", "args")},
                            message=row.decision.get("message") or "",
                            actor=row.decision.get("actor") or row.decided_by)
    try:
        return apply_decision(settings, db, case_id, decision,
                              sink=ApiEscalationSink(settings), now=datetime.now(UTC))
    except Exception as exc:  # noqa: BLE001 - the decision stands; applying it is retried
        # Safe to retry: a repair is made against a fresh reconciliation, so one that went
        # through before the failure shows up as "no longer reported", not as a second write.
        with db.session() as session:
            session.execute(escalations.update().where(escalations.c.id == escalation_id)
                            .values(resume_run_id=None))
        log.warning("autopilot decision not applied; retried before the next tick",
                    escalation=escalation_id,
                    error=redact_secrets(f"{type(exc).__name__}: {exc}")[:500])
        return None


def feed_back_pending(settings: Settings, db: Database) -> int:
    """Decisions taken but never handed to their case (the deciding process stopped in
    between): the in-process autopilot applies them before each tick."""
    with db.session() as session:
        ids = session.scalars(sa.select(escalations.c.id).where(
            escalations.c.assistant_id == AUTOPILOT, escalations.c.status == "decided",
            escalations.c.resume_run_id.is_(None))).all()
    return sum(feed_back(settings, db, escalation_id) is not None for escalation_id in ids)
