"""Webhook signing secrets per engagement, Fernet-encrypted at rest (core.secrets).

Several active secrets may exist at once: during a rotation the receiver accepts a body
signed with any of them. Secrets are never returned by the API or printed; only a hint.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from core import audit
from core.errors import ConfigError
from core.ids import new_id
from core.secrets import SecretBox
from tools.webhooks.tables import secrets as table

__all__ = ["active_hints", "add_secret", "active_secrets", "retire_secrets", "secret_hints"]


def _hint(secret: str) -> str:
    return f"whsec_…{secret[-4:]}"


def add_secret(session: Session, box: SecretBox, engagement: str, secret: str, *,
               actor: str, replace: bool = False) -> str:
    """Store `secret` for `engagement` (``replace`` retires the others); returns its hint."""
    secret = secret.strip()
    if not secret.startswith("whsec_") or len(secret) < 12:
        raise ConfigError("a webhook signing secret starts with whsec_",
                          hint="copy it from the endpoint in the Dashboard or `stripe listen`")
    if replace:
        retire_secrets(session, engagement)
    hint = _hint(secret)
    session.execute(insert(table).values(
        id=new_id("whs"), engagement=engagement, secret_encrypted=box.seal(secret), hint=hint,
        active=True, created_at=datetime.now(UTC)))
    audit.record(session, actor=actor, action="webhook_secret.add", target=engagement,
                 engagement=engagement, details={"hint": hint, "replace": replace})
    return hint


def retire_secrets(session: Session, engagement: str) -> None:
    session.execute(update(table).where(table.c.engagement == engagement).values(active=False))


def active_secrets(session: Session, box: SecretBox, engagement: str) -> list[str]:
    rows = session.execute(select(table.c.secret_encrypted).where(
        table.c.engagement == engagement, table.c.active.is_(True))
        .order_by(table.c.created_at.desc()))
    return [box.open(token) for (token,) in rows]


def secret_hints(session: Session, engagement: str) -> list[str]:
    rows = session.execute(select(table.c.hint).where(
        table.c.engagement == engagement, table.c.active.is_(True)))
    return [h for (h,) in rows]


def active_hints(session: Session, engagement: str) -> list[tuple[str, datetime]]:
    """(hint, stored at) of the secrets that verify now, newest first: more than one is a
    rotation in progress."""
    rows = session.execute(select(table.c.hint, table.c.created_at).where(
        table.c.engagement == engagement, table.c.active.is_(True))
        .order_by(table.c.created_at.desc()))
    return [(h, at) for h, at in rows]
