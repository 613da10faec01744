"""The escalation queue: one row per pending interrupt, with what an engineer needs to
decide (engagement, severity, product, money impact, the HITL payload).

Claim = a lease so two engineers do not work the same item. Decide checks the decision
against the payload's review configs; approving a money action needs the approver role,
and above FDE_API_TWO_APPROVER_MAJOR in the action's own currency (or when its amount or
currency is unknown) two different approvers; an edit keeps to the rules of `api.edits`.
Deciding is a conditional update: a second decision gets 409 and nothing runs twice. The
caller turns a final decision into the resume run in the same transaction.

`decide` is the only way a decision on an escalated interrupt is taken: the queue's routes,
the console, `fde queue decide` and a resume sent to the runs API all go through it (see
`api.decisions` and docs/decisions/0002-one-decision-path.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from api.auth import Principal
from api.edits import EditScope, check_edit
from api.errors import Conflict
from api.tables import escalations
from core import audit
from core.errors import ConfigError, NotFoundError, PermissionDenied
from core.ids import new_id
from core.money import Money, exponent
from core.settings import Settings

__all__ = ["DecisionIn", "EscalationView", "claim", "decide", "get", "list_open",
           "open_for_interrupt"]

ObjectId = Annotated[str, Field(min_length=1, max_length=255)]

Status = Literal["open", "claimed", "decided"]
_SEVERITY = {"money": "high", "write": "medium"}


class EscalationNotFound(NotFoundError):
    default_hint = "list the queue with GET /escalations (or `fde queue list`)"


class EscalationView(BaseModel):
    id: str
    thread_id: str
    run_id: str
    interrupt_id: str
    assistant_id: str
    engagement: str | None
    severity: str
    product: str | None
    money_impact: Money | None
    money_action: bool
    summary: str
    payload: dict[str, Any]
    status: Status
    claimed_by: str | None
    claim_expires_at: datetime | None
    approvals: list[dict[str, Any]]
    decision: dict[str, Any] | None
    decided_by: str | None
    decided_at: datetime | None
    resume_run_id: str | None
    created_at: datetime
    age_seconds: int


class DecisionIn(BaseModel):
    type: Literal["approve", "edit", "reject", "respond"]
    action: str | None = Field(default=None, max_length=128,
                               description="the action_request to approve/edit (by name)")
    args: dict[str, Any] | None = Field(default=None, description="edited args (edit only)")
    message: str = Field(default="", max_length=4000)
    named_ids: list[ObjectId] = Field(
        default_factory=list, max_length=20,
        description="edit only: ids no tool of the run returned that the edit may target; "
                    "each is looked up on the engagement's own Stripe account first")


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _view(row: Any) -> EscalationView:
    created = _aware(row.created_at)
    assert created is not None
    money = (Money(amount=row.money_minor, currency=row.currency)
             if row.money_minor is not None and row.currency else None)
    status = row.status
    if status == "claimed" and (_aware(row.claim_expires_at) or created) < datetime.now(UTC):
        status = "open"  # an expired claim frees the item without a sweeper
    return EscalationView(
        id=row.id, thread_id=row.thread_id, run_id=row.run_id, interrupt_id=row.interrupt_id,
        assistant_id=row.assistant_id, engagement=row.engagement, severity=row.severity,
        product=row.product, money_impact=money, money_action=row.money_tier,
        summary=row.summary, payload=row.payload, status=status,
        claimed_by=row.claimed_by if status == "claimed" else None,
        claim_expires_at=_aware(row.claim_expires_at) if status == "claimed" else None,
        approvals=row.approvals or [], decision=row.decision, decided_by=row.decided_by,
        decided_at=_aware(row.decided_at), resume_run_id=row.resume_run_id,
        created_at=created, age_seconds=int((datetime.now(UTC) - created).total_seconds()))


def _money(diagnosis: dict[str, Any]) -> tuple[bool, int | None, str | None]:
    """(has a money action, largest stated amount, its currency)."""
    actions = [a for a in diagnosis.get("actions") or [] if a.get("tier") == "money"]
    best: tuple[int, str] | None = None
    for a in actions:
        amount, currency = a.get("args", {}).get("amount"), a.get("args", {}).get("currency")
        if isinstance(amount, int) and not isinstance(amount, bool) and isinstance(currency, str):
            try:
                Money(amount=amount, currency=currency)
            except ValueError:
                continue
            if best is None or amount > best[0]:
                best = (amount, currency.lower())
    return bool(actions), best[0] if best else None, best[1] if best else None


def _products(diagnosis: dict[str, Any]) -> str | None:
    from agents.offline.catalog import load_catalog

    mode = diagnosis.get("failure_mode")
    found = next((m for m in load_catalog() if m.id == mode), None)
    return found.products[0] if found and found.products else None


def _name(value: Any) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= 64 else None


def open_for_interrupt(session: Session, *, thread_id: str, run_id: str, assistant_id: str,
                       interrupt_id: str, value: Any, values: dict[str, Any],
                       settings: Settings) -> None:
    exists = session.scalar(sa.select(escalations.c.id).where(
        escalations.c.thread_id == thread_id, escalations.c.interrupt_id == interrupt_id))
    if exists:
        return  # a re-claimed run reaching the same interrupt does not open it twice
    payload = value if isinstance(value, dict) else {"value": value}
    diagnosis = payload.get("diagnosis") or values.get("diagnosis") or {}
    money_action, amount, currency = _money(diagnosis)
    tiers = {a.get("tier") for a in diagnosis.get("actions") or []}
    severity = next((_SEVERITY[t] for t in ("money", "write") if t in tiers), "low")
    summary = payload.get("reason") or diagnosis.get("title") or "needs an engineer"
    session.execute(escalations.insert().values(
        id=new_id("esc"), thread_id=thread_id, run_id=run_id, interrupt_id=interrupt_id,
        assistant_id=assistant_id, engagement=_name(values.get("engagement")),
        severity=severity,
        product=_products(diagnosis), money_minor=amount, currency=currency,
        money_tier=money_action, summary=str(summary)[:2000], payload=payload, status="open",
        claimed_by=None, claim_expires_at=None, approvals=[], decision=None, decided_by=None,
        decided_at=None, resume_run_id=None, created_at=datetime.now(UTC)))


def _row(session: Session, escalation_id: str, *, lock: bool = False) -> Any:
    query = sa.select(escalations).where(escalations.c.id == escalation_id)
    if lock:
        query = query.with_for_update()
    row = session.execute(query).first()
    if row is None:
        raise EscalationNotFound(f"no escalation {escalation_id!r}")
    return row


def get(session: Session, escalation_id: str) -> EscalationView:
    return _view(_row(session, escalation_id))


def list_open(session: Session, *, engagement: str | None = None, severity: str | None = None,
              product: str | None = None, status: str | None = None,
              min_age_seconds: int | None = None, limit: int = 100) -> list[EscalationView]:
    query = sa.select(escalations).order_by(escalations.c.created_at)
    if engagement:
        query = query.where(escalations.c.engagement == engagement)
    if severity:
        query = query.where(escalations.c.severity == severity)
    if product:
        query = query.where(escalations.c.product == product)
    if min_age_seconds:
        cutoff = datetime.now(UTC) - timedelta(seconds=min_age_seconds)
        query = query.where(escalations.c.created_at <= cutoff)
    views = [_view(r) for r in session.execute(query)]
    wanted = status or None
    views = [v for v in views if (v.status == wanted if wanted else v.status != "decided")]
    return views[:limit]


def count_open(session: Session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(escalations)
                          .where(escalations.c.status != "decided")) or 0


def claim(session: Session, escalation_id: str, who: Principal, *, lease_seconds: float
          ) -> EscalationView:
    view = _view(_row(session, escalation_id, lock=True))
    if view.status == "decided":
        raise Conflict(f"escalation {escalation_id} was already decided by {view.decided_by}")
    if view.status == "claimed" and view.claimed_by != who.actor:
        raise Conflict(f"escalation {escalation_id} is claimed by {view.claimed_by} until "
                       f"{view.claim_expires_at:%H:%M:%S} UTC",
                       hint="pick another item, or wait for the claim to expire")
    until = datetime.now(UTC) + timedelta(seconds=lease_seconds)
    session.execute(escalations.update().where(escalations.c.id == escalation_id).values(
        status="claimed", claimed_by=who.actor, claim_expires_at=until))
    audit.record(session, actor=who.actor, action="escalation.claim", target=escalation_id,
                 engagement=view.engagement, details={"until": until.isoformat()})
    return get(session, escalation_id)


def _proposed_args(view: EscalationView, name: str) -> dict[str, Any] | None:
    for request in view.payload.get("action_requests") or []:
        if request.get("name") == name:
            return dict(request.get("args") or {})
    for action in (view.payload.get("diagnosis") or {}).get("actions") or []:
        if action.get("name") == name:
            return dict(action.get("args") or {})
    return None


def _check(view: EscalationView, decision: DecisionIn, scope: EditScope) -> dict[str, Any]:
    """The decision as the graph reads it, checked against what the escalation allows."""
    from agents.escalation import CONFIRM

    allowed = {c["action_name"]: c["allowed_decisions"]
               for c in view.payload.get("review_configs", [])}
    if decision.type == "respond" and not decision.message.strip():
        raise ConfigError("a respond decision needs a message", hint='{"message": "..."}')
    if decision.named_ids and decision.type != "edit":
        raise ConfigError("named_ids only go with an edit decision")
    if decision.type in ("approve", "edit"):
        name = decision.action or CONFIRM
        if allowed and name not in allowed:
            raise ConfigError(f"action {name!r} was not proposed by this escalation",
                              hint=f"proposed: {', '.join(allowed)}")
        if allowed and decision.type not in allowed[name]:
            raise ConfigError(f"{name} cannot be {decision.type}d here",
                              hint=f"allowed: {', '.join(allowed[name])}")
        args = None
        if decision.type == "approve" and decision.args:
            raise ConfigError("an approve decision runs the proposed args; to change them "
                              "send an edit", hint='{"type": "edit", "args": {...}}')
        if decision.type == "edit":
            if not decision.args:
                raise ConfigError("an edit decision needs the edited args",
                                  hint='{"args": {...}}')
            proposed = _proposed_args(view, name)
            if proposed is None:
                raise ConfigError(f"action {name!r} was not proposed by this escalation")
            args = check_edit(proposed, decision.args, decision.named_ids, scope)
        return {"type": decision.type, "action": name, "args": args,
                "message": decision.message}
    if decision.action or decision.args:
        raise ConfigError(f"action/args only go with approve or edit, not {decision.type}")
    return {"type": decision.type, "action": None, "args": None, "message": decision.message}


def _is_money(view: EscalationView, action: str | None) -> bool:
    diagnosis = view.payload.get("diagnosis") or {}
    return any(a.get("name") == action and a.get("tier") == "money"
               for a in diagnosis.get("actions") or [])


def _money_of(view: EscalationView, action: str | None,
              edited: dict[str, Any] | None) -> Money | None:
    """The amount the decision would move: the edited args over the proposed ones."""
    for a in (view.payload.get("diagnosis") or {}).get("actions") or []:
        if a.get("name") == action:
            args = {**(a.get("args") or {}), **(edited or {})}
            try:
                return Money(amount=args.get("amount"), currency=args.get("currency"))
            except (ValueError, TypeError):
                return None
    return None


def _needs_two(money: Money | None, settings: Settings) -> bool:
    # One threshold in major units, scaled by each currency's exponent: a bare minor-unit
    # threshold would mean EUR 500 but JPY 50,000 and BHD 50.
    if money is None:
        return True
    return money.amount > settings.api_two_approver_major * 10 ** exponent(money.currency)


class Decided(BaseModel):
    escalation: EscalationView
    resume: dict[str, Any] | None  # the decision to resume with; None while a 2nd is needed


def decide(session: Session, escalation_id: str, who: Principal, decision: DecisionIn, *,
           settings: Settings, scope: EditScope | None = None,
           final_only: bool = False) -> Decided:
    """``final_only``: refuse (409, nothing recorded) a decision that would only be the
    first of two approvals — the runs API cannot answer "recorded, wait for another"."""
    view = _view(_row(session, escalation_id, lock=True))
    if view.status == "decided":
        raise Conflict(f"escalation {escalation_id} was already decided by {view.decided_by}",
                       hint="nothing was applied again; see GET /escalations/{id}")
    if view.status == "claimed" and view.claimed_by != who.actor and not view.approvals:
        # a second approval is exactly what the claimer waits for: it is never blocked
        raise Conflict(f"escalation {escalation_id} is claimed by {view.claimed_by}",
                       hint="only the engineer holding the claim may decide until it expires")
    checked = _check(view, decision, scope or EditScope())
    answer = checked | {"actor": who.actor}
    approvals = list(view.approvals)
    money = decision.type in ("approve", "edit") and _is_money(view, answer["action"])
    if money:
        if not who.at_least("approver"):
            raise PermissionDenied(f"{answer['action']} moves money: it needs the approver "
                                   f"role; {who.name} is a {who.role}",
                                   hint="ask an approver to decide this escalation")
        moved = _money_of(view, answer["action"], checked["args"])
        two = _needs_two(moved, settings)
        same = [a for a in approvals if a["decision"] == checked]
        if any(a["actor"] == who.actor for a in same):
            raise Conflict(f"{who.actor} already approved this; a second, different "
                           "approver is needed", hint="ask another approver")
        approvals.append({"actor": who.actor, "decision": checked,
                          "at": datetime.now(UTC).isoformat()})
        if two and len(same) < 1:
            if final_only:
                amount = moved.format() if moved else "an unknown amount"
                raise Conflict(
                    f"{answer['action']} moves {amount}, above the two-approver threshold: "
                    "it needs two approvers and no other approver has approved it yet",
                    hint=f"record your approval with POST /escalations/{escalation_id}/"
                         "decide (or `fde queue decide`); a second approver's decision "
                         "resumes the run")
            session.execute(escalations.update().where(escalations.c.id == escalation_id)
                            .values(approvals=approvals))
            audit.record(session, actor=who.actor, action="escalation.approve_first",
                         target=escalation_id, engagement=view.engagement,
                         details={"decision": answer,
                                  "money": moved.model_dump(mode="json") if moved else None})
            return Decided(escalation=get(session, escalation_id), resume=None)
    done = session.execute(escalations.update().where(
        escalations.c.id == escalation_id, escalations.c.status != "decided").values(
            status="decided", decision=answer, decided_by=who.actor, approvals=approvals,
            decided_at=datetime.now(UTC))).rowcount
    if not done:
        raise Conflict(f"escalation {escalation_id} was decided concurrently")
    audit.record(session, actor=who.actor, action="escalation.decide", target=escalation_id,
                 engagement=view.engagement,
                 details={"decision": answer, "thread": view.thread_id,
                          "approvers": [a["actor"] for a in approvals]})
    return Decided(escalation=get(session, escalation_id), resume=answer)


def mark_resumed(session: Session, escalation_id: str, run_id: str) -> None:
    session.execute(escalations.update().where(escalations.c.id == escalation_id)
                    .values(resume_run_id=run_id))


def for_interrupt(session: Session, thread_id: str, interrupt_id: str) -> Any:
    return session.execute(sa.select(escalations).where(
        escalations.c.thread_id == thread_id,
        escalations.c.interrupt_id == interrupt_id)).first()
