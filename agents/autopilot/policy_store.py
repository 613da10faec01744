"""Stored policies: one per engagement, versioned, changed only by an approver, audited in the
same transaction as the change. An engagement without one runs on the safe default (the
default schedule, nothing automatic, everything escalates).

Each engagement also gets a signing secret for its outgoing notification webhooks, created
with its first policy and kept encrypted like every other secret.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from agents.autopilot.policy import Policy, parse_policy
from agents.autopilot.tables import aware, policies
from core import audit, engagements
from core.errors import PermissionDenied
from core.secrets import SecretBox

__all__ = ["APPROVER_ROLES", "Role", "StoredPolicy", "get_policy", "set_policy",
           "signing_secret"]

Role = Literal["viewer", "engineer", "approver", "admin"]
APPROVER_ROLES: frozenset[str] = frozenset({"approver", "admin"})


class StoredPolicy(BaseModel):
    engagement: str
    version: int  # 0: the built-in default, never stored
    source: str
    policy: Policy
    updated_by: str | None = None
    updated_at: datetime | None = None


def get_policy(session: Session, engagement: str) -> StoredPolicy:
    row = session.execute(select(policies).where(policies.c.engagement == engagement)).first()
    if row is None:
        return StoredPolicy(engagement=engagement, version=0, source="", policy=Policy())
    return StoredPolicy(engagement=engagement, version=row.version, source=row.source,
                        policy=Policy.model_validate(row.body), updated_by=row.updated_by,
                        updated_at=aware(row.updated_at))


def set_policy(session: Session, box: SecretBox, engagement: str, source: str, *, actor: str,
               role: str) -> StoredPolicy:
    """Validate, then replace the engagement's policy. Nothing is written when the actor is
    not an approver, the engagement is unknown or the policy is invalid."""
    if role not in APPROVER_ROLES:
        raise PermissionDenied(
            f"{actor} ({role}) may not change the autopilot policy of {engagement!r}: "
            "that needs the approver role",
            hint="policy changes need the approver role; ask an approver to apply it")
    engagements.get(session, engagement)
    policy = parse_policy(source)
    body = policy.model_dump(mode="json", by_alias=True)
    now = datetime.now(UTC)
    current = get_policy(session, engagement)
    if current.version == 0:
        session.execute(insert(policies).values(
            engagement=engagement, version=1, source=source, body=body,
            signing_secret_encrypted=box.seal("whsec_" + secrets.token_urlsafe(32)),
            updated_by=actor, updated_at=now))
    else:
        session.execute(update(policies).where(policies.c.engagement == engagement).values(
            version=current.version + 1, source=source, body=body, updated_by=actor,
            updated_at=now))
    audit.record(session, actor=actor, action="autopilot.policy.set",
                 target=f"autopilot-policy:{engagement}", engagement=engagement,
                 details={"role": role, "version": current.version + 1,
                          "previous": current.policy.model_dump(mode="json", by_alias=True),
                          "policy": body})
    return get_policy(session, engagement)


def signing_secret(session: Session, box: SecretBox, engagement: str) -> str | None:
    row = session.execute(select(policies.c.signing_secret_encrypted).where(
        policies.c.engagement == engagement)).first()
    return box.open(row[0]) if row else None
