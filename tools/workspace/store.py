"""Contacts, meeting notes and the decision log of one engagement. Every write checks the
engagement exists, validates its text, and leaves an audit entry (with the actor) in the
same transaction. Contact e-mails never go into the audit details (PII)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from core import audit, engagements
from core.ids import new_id
from tools.workspace.errors import WorkspaceInputError, WorkspaceNotFound, WorkspaceStateError
from tools.workspace.models import (
    Contact,
    ContactCreate,
    Decision,
    DecisionCreate,
    Note,
    NoteCreate,
)
from tools.workspace.tables import contacts, decisions, notes

__all__ = ["accept_decision", "add_contact", "add_decision", "add_note", "aware",
           "get_decision", "list_contacts", "list_decisions", "list_notes"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def aware(value: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; they were stored in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _text(value: str, what: str, hint: str) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise WorkspaceInputError(f"{what} is empty", hint=hint)
    return cleaned


def _model(cls: Any, row: Any) -> Any:
    data = dict(row._mapping)
    for key, value in data.items():
        if isinstance(value, datetime):
            data[key] = aware(value)
    return cls.model_validate(data)


def add_contact(session: Session, engagement: str, spec: ContactCreate, *,
                actor: str) -> Contact:
    engagements.get(session, engagement)
    name = _text(spec.name, "the contact's name", "pass the person's name, e.g. 'Ana Ruiz'")
    email = spec.email.strip() if spec.email else None
    if email and not _EMAIL.match(email):
        raise WorkspaceInputError(f"{email!r} is not an e-mail address",
                                  hint="use name@company.example, or leave the e-mail out")
    row = {"id": new_id("ctc"), "engagement": engagement, "name": name, "role": spec.role.strip(),
           "email": email, "created_at": datetime.now(UTC), "created_by": actor}
    session.execute(insert(contacts).values(**row))
    audit.record(session, actor=actor, action="workspace.contact.add", target=row["id"],
                 engagement=engagement, details={"name": name, "role": row["role"]})
    return Contact.model_validate(row)


def list_contacts(session: Session, engagement: str) -> list[Contact]:
    rows = session.execute(select(contacts).where(contacts.c.engagement == engagement)
                           .order_by(contacts.c.name))
    return [_model(Contact, r) for r in rows]


def add_note(session: Session, engagement: str, spec: NoteCreate, *, actor: str) -> Note:
    engagements.get(session, engagement)
    title = _text(spec.title, "the note's title", "give the meeting a title, e.g. 'Kick-off'")
    body = _text(spec.body, "the note's body", "write what was discussed")
    now = datetime.now(UTC)
    row = {"id": new_id("note"), "engagement": engagement, "title": title, "body": body,
           "attendees": [a.strip() for a in spec.attendees if a.strip()],
           "met_at": aware(spec.met_at) if spec.met_at else now, "created_at": now,
           "created_by": actor}
    session.execute(insert(notes).values(**row))
    audit.record(session, actor=actor, action="workspace.note.add", target=row["id"],
                 engagement=engagement, details={"title": title})
    return Note.model_validate(row)


def list_notes(session: Session, engagement: str) -> list[Note]:
    rows = session.execute(select(notes).where(notes.c.engagement == engagement)
                           .order_by(notes.c.met_at))
    return [_model(Note, r) for r in rows]


def add_decision(session: Session, engagement: str, spec: DecisionCreate, *,
                 actor: str) -> Decision:
    engagements.get(session, engagement)
    hint = "a decision record needs a title, its context and what was decided"
    title = _text(spec.title, "the decision's title", hint)
    context = _text(spec.context, "the decision's context", hint)
    decided = _text(spec.decision, "what was decided", hint)
    if spec.supersedes is not None:  # it takes effect when this one is accepted
        _replaceable(get_decision(session, engagement, spec.supersedes))
    now = datetime.now(UTC)
    # Numbers are per engagement and never reused (ADR files are named after them); the
    # unique constraint turns a concurrent duplicate into an error rather than two ADR-0004s.
    number = (session.scalar(select(func.max(decisions.c.number))
                             .where(decisions.c.engagement == engagement)) or 0) + 1
    row = {"id": new_id("dec"), "engagement": engagement, "number": number, "title": title,
           "context": context, "decision": decided,
           "drivers": [d.strip() for d in spec.drivers if d.strip()],
           "alternatives": [o.model_dump() for o in spec.alternatives],
           "chosen": spec.chosen, "because": spec.because.strip(),
           "consequences": spec.consequences.strip(),
           "evidence": [e.strip() for e in spec.evidence if e.strip()],
           "decided_by": [d.strip() for d in spec.decided_by if d.strip()] or [actor],
           "status": "proposed", "supersedes": spec.supersedes, "superseded_by": None,
           "created_at": now, "created_by": actor, "updated_at": now, "accepted_at": None,
           "accepted_by": None, "closed_at": None, "closed_by": None, "closed_reason": None}
    session.execute(insert(decisions).values(**row))
    audit.record(session, actor=actor, action="workspace.decision.add", target=row["id"],
                 engagement=engagement, details={"number": number, "title": title,
                                                 "decided_by": row["decided_by"]})
    return Decision.model_validate(row)


def get_decision(session: Session, engagement: str, number: int) -> Decision:
    row = session.execute(select(decisions).where(decisions.c.engagement == engagement,
                                                  decisions.c.number == number)).first()
    if row is None:
        engagements.get(session, engagement)
        raise WorkspaceNotFound(f"engagement {engagement!r} has no decision {number}",
                                hint=f"list decisions with `fde workspace show "
                                     f"--engagement {engagement}`")
    return _model(Decision, row)


def list_decisions(session: Session, engagement: str) -> list[Decision]:
    rows = session.execute(select(decisions).where(decisions.c.engagement == engagement)
                           .order_by(decisions.c.number))
    return [_model(Decision, r) for r in rows]


def accept_decision(session: Session, engagement: str, number: int, *,
                    actor: str) -> Decision:
    found = _proposed(get_decision(session, engagement, number), "accepted")
    replaced = None
    if found.supersedes is not None:
        replaced = _replaceable(get_decision(session, engagement, found.supersedes))
    now = datetime.now(UTC)
    session.execute(update(decisions).where(decisions.c.id == found.id).values(
        status="accepted", accepted_at=now, accepted_by=actor, updated_at=now))
    audit.record(session, actor=actor, action="workspace.decision.accept", target=found.id,
                 engagement=engagement, details={"number": number})
    if replaced is not None:
        session.execute(update(decisions).where(decisions.c.id == replaced.id).values(
            status="superseded", superseded_by=number, updated_at=now))
        audit.record(session, actor=actor, action="workspace.decision.supersede",
                     target=replaced.id, engagement=engagement,
                     details={"number": replaced.number, "superseded_by": number})
    return get_decision(session, engagement, number)


_CLOSE_ACTION = {"rejected": "workspace.decision.reject",
                 "withdrawn": "workspace.decision.withdraw"}


def close_decision(session: Session, engagement: str, number: int, *,
                   outcome: Literal["rejected", "withdrawn"], reason: str,
                   actor: str) -> Decision:
    """Reject (reviewers said no) or withdraw (its proposers took it back) a proposal; the
    decision it would have superseded stays as it was."""
    found = _proposed(get_decision(session, engagement, number), outcome)
    why = _text(reason, f"why the decision is {outcome}",
                f"say why decision {number} is {outcome}, for whoever reads the log later")
    now = datetime.now(UTC)
    session.execute(update(decisions).where(decisions.c.id == found.id).values(
        status=outcome, closed_at=now, closed_by=actor, closed_reason=why, updated_at=now))
    audit.record(session, actor=actor, action=_CLOSE_ACTION[outcome],
                 target=found.id, engagement=engagement,
                 details={"number": number, "reason": why})
    return get_decision(session, engagement, number)


def _proposed(found: Decision, becoming: str) -> Decision:
    """Only a proposal can be accepted, rejected or withdrawn."""
    if found.status == "proposed":
        return found
    why = {"accepted": f"was already accepted by {found.accepted_by}",
           "superseded": f"was superseded by decision {found.superseded_by}",
           "rejected": f"was rejected by {found.closed_by}",
           "withdrawn": f"was withdrawn by {found.closed_by}"}[found.status]
    raise WorkspaceStateError(
        f"decision {found.number} {why}; only a proposed decision can be {becoming}",
        hint="to change an accepted decision, record a new one that supersedes it")


def _replaceable(found: Decision) -> Decision:
    """A decision a new one may supersede: one still standing (proposed or accepted)."""
    if found.status == "superseded":
        raise WorkspaceStateError(
            f"decision {found.number} was already superseded by decision "
            f"{found.superseded_by}", hint=f"supersede decision {found.superseded_by} instead")
    if found.status in ("rejected", "withdrawn"):
        raise WorkspaceStateError(f"decision {found.number} was {found.status}: there is "
                                  "nothing in force to supersede",
                                  hint="record the new decision without --supersedes")
    return found
