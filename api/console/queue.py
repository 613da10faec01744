"""The escalation queue and one escalation: evidence, options from the HITL payload, money
impact, and the claim / approve / edit / reject / respond forms — through the same service
(and role checks) as `/escalations`."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse

from api import escalations
from api.console.render import console_router, page
from api.console.session import PageViewer, PostEngineer
from api.deps import Rt
from api.escalations import DecisionIn
from api.runs.service import decide_escalation
from core import engagements
from core.errors import ConfigError

router = console_router()
SEVERITIES = ("low", "medium", "high", "critical")
STATUSES = ("open", "claimed", "decided")
MAX_AGE_MINUTES = 10 * 365 * 24 * 60  # ten years; the JSON API bounds seconds the same way


def _filters(request: Request) -> dict[str, Any]:
    q = request.query_params
    minutes = q.get("min_age_minutes", "").strip()
    if minutes and not (minutes.isdigit() and int(minutes) <= MAX_AGE_MINUTES):
        raise ConfigError(f"age filter {minutes!r} is not a whole number of minutes up to "
                          f"{MAX_AGE_MINUTES}", hint="e.g. 30 for items older than half an hour")
    severity, status = q.get("severity") or None, q.get("status") or None
    if severity not in (None, *SEVERITIES):
        raise ConfigError(f"unknown severity {severity!r}", hint=", ".join(SEVERITIES))
    if status not in (None, *STATUSES):
        raise ConfigError(f"unknown status {status!r}", hint=", ".join(STATUSES))
    return {"engagement": q.get("engagement") or None, "severity": severity,
            "product": q.get("product") or None, "status": status,
            "min_age_seconds": int(minutes) * 60 if minutes else None}


@router.get("/", response_class=HTMLResponse)
def queue(request: Request, rt: Rt, who: PageViewer) -> HTMLResponse:
    filters = _filters(request)
    with rt.db.session() as session:
        items = escalations.list_open(session, **filters)
        names = [e.name for e in engagements.list_all(session)]
    return page(request, "queue.html", who, items=items, names=names,
                severities=SEVERITIES, statuses=STATUSES, q=request.query_params)


@router.get("/escalations/{escalation_id}", response_class=HTMLResponse)
def escalation(escalation_id: str, request: Request, rt: Rt, who: PageViewer,
               note: str | None = None) -> HTMLResponse:
    with rt.db.session() as session:
        esc = escalations.get(session, escalation_id)
    allowed = {c["action_name"]: c["allowed_decisions"]
               for c in esc.payload.get("review_configs", [])}
    tiers = {a.get("name"): a.get("tier") for a in
             (esc.payload.get("diagnosis") or {}).get("actions") or []}
    return page(request, "escalation.html", who, esc=esc,
                diagnosis=esc.payload.get("diagnosis") or {},
                actions=esc.payload.get("action_requests", []), allowed=allowed, tiers=tiers,
                note=note)


@router.post("/escalations/{escalation_id}/claim")
def claim(escalation_id: str, rt: Rt, who: PostEngineer) -> RedirectResponse:
    with rt.db.session() as session:
        escalations.claim(session, escalation_id, who.principal,
                          lease_seconds=rt.settings.api_escalation_claim_seconds)
    return RedirectResponse(f"/console/escalations/{escalation_id}", 303)


def _edited(args: str | None) -> dict[str, Any] | None:
    if not args or not args.strip():
        return None
    try:
        value = json.loads(args)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"the edited args are not JSON: {exc.msg} at column {exc.colno}",
                          hint='write a JSON object, e.g. {"amount": 1500}') from None
    if not isinstance(value, dict):
        raise ConfigError("the edited args must be a JSON object", hint='{"amount": 1500}')
    return value


@router.post("/escalations/{escalation_id}/decide")
async def decide(escalation_id: str, rt: Rt, who: PostEngineer,
                 type: Annotated[str, Form()],  # noqa: A002 - the form field's name
                 action: Annotated[str | None, Form()] = None,
                 args: Annotated[str | None, Form()] = None,
                 message: Annotated[str, Form()] = "") -> RedirectResponse:
    decision = DecisionIn.model_validate({
        "type": type, "action": action or None, "message": message,
        "args": _edited(args) if type == "edit" else None})
    result = await run_in_threadpool(decide_escalation, rt, escalation_id, who.principal,
                                     decision)
    if result.run_id is not None:
        esc = result.escalation
        return RedirectResponse(f"/console/threads/{esc.thread_id}/runs/{result.run_id}", 303)
    note = "?note=second" if result.waiting_for_second_approver else ""
    return RedirectResponse(f"/console/escalations/{escalation_id}{note}", 303)
