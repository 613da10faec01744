"""Notifications: "escalation created" and "SLA breached", sent as signed webhooks to the
engagement's policy targets, and e-mail-ready digests (markdown and plain text).

Webhooks are signed like Stripe's: header ``Fde-Signature: t=<unix>,v1=<hex>`` with
HMAC-SHA256 over ``"{t}.{raw body}"`` and the engagement's ``whsec_`` secret, so receivers can
verify them with the same code they use for Stripe. Each notification is queued once per
(case, kind) in the same transaction as the escalation, and retried until delivered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

import httpx
from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from agents.autopilot.cases import Case, case_from_row
from agents.autopilot.policy import Policy
from agents.autopilot.tables import aware, cases, notifications
from core.ids import new_id

__all__ = ["Digest", "NotificationKind", "Sender", "deliver_pending", "digest", "http_sender",
           "queue_notification", "queue_sla_breaches", "sign"]

NotificationKind = Literal["escalation_created", "sla_breached"]
SIGNATURE_HEADER = "Fde-Signature"
MAX_ATTEMPTS = 5
Sender = Callable[[str, bytes, dict[str, str]], int]
"""(url, body, headers) → HTTP status; raises httpx.HTTPError when unreachable."""


def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def http_sender(timeout: float = 10.0) -> Sender:
    def send(url: str, body: bytes, headers: dict[str, str]) -> int:
        return httpx.post(url, content=body, headers=headers, timeout=timeout).status_code
    return send


def queue_notification(session: Session, case: Case, kind: NotificationKind, *,
                       now: datetime, detail: str) -> bool:
    payload = {"type": f"autopilot.{kind}", "created": int(now.timestamp()),
               "engagement": case.engagement, "detail": detail,
               "case": {"id": case.id, "kind": case.kind, "object_id": case.object_id,
                        "severity": case.severity, "summary": case.summary,
                        "money_minor": case.money_minor, "currency": case.currency,
                        "evidence": case.evidence[:20]}}
    builder = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return bool(session.execute(builder(notifications).values(
        id=new_id("ntf"), engagement=case.engagement, case_id=case.id, kind=kind,
        status="pending", attempts=0, payload=payload, created_at=now,
    ).on_conflict_do_nothing(index_elements=["case_id", "kind"])).rowcount)


def queue_sla_breaches(session: Session, engagement: str, policy: Policy, *,
                       now: datetime) -> int:
    """One "SLA breached" per escalation older than the policy's SLA."""
    limit = now - timedelta(hours=policy.notify.sla_hours)
    rows = session.execute(select(cases).where(
        cases.c.engagement == engagement, cases.c.status == "escalated",
        cases.c.escalated_at < limit)).all()
    return sum(queue_notification(session, case_from_row(r), "sla_breached", now=now,
                                  detail=f"escalated more than {policy.notify.sla_hours} h ago")
               for r in rows)


def deliver_pending(session: Session, engagement: str, policy: Policy, secret: str | None,
                    sender: Sender, *, now: datetime) -> dict[str, int]:
    """Send every pending notification to every webhook target; all must answer 2xx."""
    counts = {"sent": 0, "failed": 0, "retry": 0}
    rows = session.execute(select(notifications).where(
        notifications.c.engagement == engagement, notifications.c.status == "pending")).all()
    for row in rows:
        if not policy.notify.webhooks or secret is None:
            continue  # nowhere to send yet: stays pending for the digest and later targets
        body = json.dumps({"id": row.id, **row.payload}, sort_keys=True).encode()
        headers = {"Content-Type": "application/json",
                   SIGNATURE_HEADER: sign(secret, body, int(now.timestamp()))}
        error = None
        for url in policy.notify.webhooks:
            try:
                status = sender(url, body, headers)
                if not 200 <= status < 300:
                    error = f"{url} answered {status}"
            except httpx.HTTPError as exc:
                error = f"{url}: {type(exc).__name__}"
        attempts = row.attempts + 1
        status = "sent" if error is None else "failed" if attempts >= MAX_ATTEMPTS else "pending"
        counts["sent" if error is None else "failed" if status == "failed" else "retry"] += 1
        session.execute(update(notifications).where(notifications.c.id == row.id).values(
            status=status, attempts=attempts, last_error=error,
            sent_at=now if error is None else None))
    return counts


class Digest(BaseModel):
    subject: str
    markdown: str
    text: str


def digest(session: Session, engagement: str, *, since: datetime, now: datetime) -> Digest:
    """What needs a person (open escalations, SLA breaches) and what the autopilot did."""
    rows = [case_from_row(r) for r in session.execute(select(cases).where(
        cases.c.engagement == engagement)).all()]
    escalated = [c for c in rows if c.status == "escalated"]
    breached = {r.case_id for r in session.execute(select(notifications.c.case_id).where(
        notifications.c.engagement == engagement, notifications.c.kind == "sla_breached"))}
    fixed = [c for c in rows if c.status == "resolved" and c.closed_at
             and aware(c.closed_at) >= since]
    subject = (f"[fde autopilot] {engagement}: {len(escalated)} escalation(s), "
               f"{len(fixed)} resolved since {since:%Y-%m-%d %H:%M} UTC")

    def line(c: Case) -> str:
        money = f" — {c.money_minor} {c.currency.upper()} (minor)" if (
            c.money_minor and c.currency) else ""
        late = " **SLA breached**" if c.id in breached else ""
        return f"- `{c.id}` {c.severity} {c.kind} on `{c.object_id}`: {c.summary}{money}{late}"

    md: list[str] = [f"# {subject}", "", "## Needs a decision", ""]
    md += [line(c) for c in escalated] or ["- nothing"]
    md += ["", "## Resolved by the autopilot or no longer reported", ""]
    md += [f"- `{c.id}` {c.kind} on `{c.object_id}`: "
           f"{(c.resolution or {}).get('how', 'resolved')}" for c in fixed] or ["- nothing"]
    text = "\n".join(m.lstrip("#").strip().replace("`", "").replace("**", "") for m in md)
    return Digest(subject=subject, markdown="\n".join(md) + "\n", text=text + "\n")
