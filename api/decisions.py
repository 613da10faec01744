"""The one decision path: every decision on an escalated interrupt — from the queue's
routes, the console, `fde queue decide`, or a `command.resume` sent to the runs API — is
taken by `escalations.decide`, with the same rules (role per action tier, two approvers
above the threshold, the claim, the edit rules, the audit entry). This module supplies what
those rules need from the running service: the ids the run's tools returned and a look-up
on the engagement's own Stripe account (`edit_scope`), and the translation of a resume
value into a decision (`for_resume`)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.orm import Session

from api import escalations
from api.auth import Principal
from api.edits import EditScope
from api.errors import Conflict
from api.escalations import Decided, DecisionIn, EscalationView
from api.tables import runs
from core.errors import ConfigError, NotFoundError, PermissionDenied, StripeError
from core.ids import ids_in

__all__ = ["decide", "edit_scope", "for_resume"]


def _returned_ids(rt: Any, view: EscalationView) -> frozenset[str]:
    """Ids in the results of the run's tool calls (the graph state's `calls`)."""
    graph = rt.graphs.get(view.assistant_id)
    if graph is None:  # an autopilot case: its proposal came from the detectors alone
        return frozenset()
    values = graph.get_state({"configurable": {"thread_id": view.thread_id}}).values or {}
    found: set[str] = set()
    for call in values.get("calls") or []:
        if isinstance(call, dict):
            found |= ids_in(str(call.get("result")))
    return frozenset(found)


def _on_account(rt: Any, engagement: str | None):  # noqa: ANN202 - an edits.OnAccount
    def look_up(ids: list[str]) -> None:
        from agents.wiring import engagement_gateway

        if engagement is None:
            raise PermissionDenied(f"{ids[0]} cannot be confirmed: this escalation names no "
                                   "engagement whose account could hold it")
        try:
            gateway = engagement_gateway(rt.settings, rt.db, engagement)
        except NotFoundError:
            raise PermissionDenied(f"{ids[0]} cannot be confirmed: engagement {engagement!r} "
                                   "is not registered", hint="register it with "
                                   "`fde engagement add`, or edit only objects the run "
                                   "returned") from None
        with gateway:
            for object_id in ids:
                try:
                    gateway.retrieve(object_id)
                except NotFoundError as exc:  # a prefix no Stripe resource has
                    raise PermissionDenied(f"{object_id} is not an object of engagement "
                                           f"{engagement!r}'s account: {exc}") from None
                except StripeError as exc:
                    if exc.http_status in (400, 403, 404):
                        raise PermissionDenied(
                            f"{object_id} is not an object of engagement {engagement!r}'s "
                            "account (Stripe answered "
                            f"{exc.http_status}{' ' + exc.code if exc.code else ''})") from None
                    raise Conflict(f"could not look {object_id} up on engagement "
                                   f"{engagement!r}'s account: {exc}",
                                   hint="nothing was decided; try again") from None
    return look_up


def edit_scope(rt: Any, view: EscalationView) -> EditScope:
    return EditScope(returned=_returned_ids(rt, view),
                     on_account=_on_account(rt, view.engagement))


def decide(rt: Any, session: Session, escalation_id: str, who: Principal,
           decision: DecisionIn, *, final_only: bool = False) -> Decided:
    view = escalations.get(session, escalation_id)
    return escalations.decide(session, escalation_id, who, decision, settings=rt.settings,
                              scope=edit_scope(rt, view), final_only=final_only)


def _decision(interrupt_id: str, value: Any) -> DecisionIn:
    where = f"command.resume.{interrupt_id[:64]}"
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a decision object",
                          hint='{"type": "approve", "action": "..."}')
    try:  # the actor is whoever holds the token, never what the body claims
        return DecisionIn.model_validate({k: v for k, v in value.items() if k != "actor"})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{where}.{field}: {first['msg']}",
                          hint='{"type": "approve|edit|reject|respond", "action": "...", '
                               '"args": {...}, "message": "..."}') from None


def _latest_run(session: Session, thread_id: str) -> str:
    return session.scalar(sa.select(runs.c.run_id).where(runs.c.thread_id == thread_id)
                          .order_by(runs.c.created_at.desc()).limit(1)) or "unknown"


def for_resume(rt: Any, session: Session, *, thread_id: str, assistant_id: str,
               interrupt_id: str, value: Any, who: Principal) -> tuple[str, dict[str, Any]]:
    """A resume value sent to the runs API, decided as the queue decides it: (the
    escalation id, the checked decision to resume with). Only a final decision resumes."""
    decision = _decision(interrupt_id, value)
    row = escalations.for_interrupt(session, thread_id, interrupt_id)
    if row is None:  # paused before the queue existed: open its item, then decide it
        snap = rt.graphs[assistant_id].get_state({"configurable": {"thread_id": thread_id}})
        pending = {i.id: i.value for i in snap.interrupts}
        escalations.open_for_interrupt(
            session, thread_id=thread_id, run_id=_latest_run(session, thread_id),
            assistant_id=assistant_id, interrupt_id=interrupt_id,
            value=pending.get(interrupt_id), values=snap.values or {}, settings=rt.settings)
        row = escalations.for_interrupt(session, thread_id, interrupt_id)
    decided = decide(rt, session, row.id, who, decision, final_only=True)
    assert decided.resume is not None  # final_only: a first approval raises instead
    return row.id, decided.resume
