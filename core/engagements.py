"""Engagements: the user accounts under care, stored with their secrets encrypted."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit
from core.errors import ConfigError, EngagementNotFound
from core.ids import new_id
from core.models import EngagementRow
from core.redact import redact_secrets
from core.secrets import SecretBox

Mode = Literal["test", "live"]
Tier = Literal["read", "write", "money"]
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class EngagementCreate(BaseModel):
    name: str
    stripe_mode: Mode = "test"
    stripe_key: SecretStr
    stripe_api_base: str | None = None
    stripe_account_id: str | None = None
    connect_accounts: list[str] = Field(default_factory=list)
    user_db_dsn: SecretStr | None = None
    mapping_path: str | None = None
    webhook_urls: list[str] = Field(default_factory=list)
    tier: Tier = "read"
    allow_live_money: bool = False

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(
                "engagement names are lower-case letters, digits and dashes (max 63), "
                f"starting with a letter or digit; got {value!r}"
            )
        return value


class Engagement(BaseModel):
    """Public view: never carries the key itself, only its hint."""

    id: str
    name: str
    stripe_mode: Mode
    stripe_api_base: str | None
    stripe_account_id: str | None
    stripe_key_hint: str
    connect_accounts: list[str]
    has_user_db: bool
    mapping_path: str | None
    webhook_urls: list[str]
    tier: Tier
    allow_live_money: bool
    created_at: datetime

    @classmethod
    def from_row(cls, row: EngagementRow) -> Engagement:
        return cls(
            id=row.id, name=row.name, stripe_mode=row.stripe_mode,  # type: ignore[arg-type]
            stripe_api_base=row.stripe_api_base, stripe_account_id=row.stripe_account_id,
            stripe_key_hint=row.stripe_key_hint, connect_accounts=list(row.connect_accounts),
            has_user_db=row.user_db_dsn_encrypted is not None, mapping_path=row.mapping_path,
            webhook_urls=list(row.webhook_urls), tier=row.tier,  # type: ignore[arg-type]
            allow_live_money=row.allow_live_money, created_at=row.created_at,
        )


def key_hint(key: str) -> str:
    """``sk_test_…abcd``: the same form the log redaction uses; never the key itself."""
    hint = redact_secrets(key)
    return hint if hint != key else f"…{key[-4:]}"


def add(session: Session, box: SecretBox, spec: EngagementCreate, *, actor: str) -> Engagement:
    key = spec.stripe_key.get_secret_value()
    row = EngagementRow(
        id=new_id("eng"), name=spec.name, stripe_mode=spec.stripe_mode,
        stripe_api_base=spec.stripe_api_base, stripe_account_id=spec.stripe_account_id,
        stripe_key_encrypted=box.seal(key), stripe_key_hint=key_hint(key),
        connect_accounts=spec.connect_accounts,
        user_db_dsn_encrypted=box.seal(spec.user_db_dsn.get_secret_value())
        if spec.user_db_dsn else None,
        mapping_path=spec.mapping_path, webhook_urls=spec.webhook_urls, tier=spec.tier,
        allow_live_money=spec.allow_live_money,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise ConfigError(
            f"an engagement named {spec.name!r} already exists",
            hint="pick another name, or inspect it with `fde engagement show NAME`",
        ) from None
    audit.record(session, actor=actor, action="engagement.add", target=row.id,
                 engagement=row.name,
                 details={"mode": row.stripe_mode, "tier": row.tier, "key": row.stripe_key_hint})
    return Engagement.from_row(row)


def _row(session: Session, name: str) -> EngagementRow:
    row = session.scalar(select(EngagementRow).where(EngagementRow.name == name))
    if row is None:
        raise EngagementNotFound(f"no engagement named {name!r}")
    return row


def get(session: Session, name: str) -> Engagement:
    return Engagement.from_row(_row(session, name))


def stripe_key(session: Session, box: SecretBox, name: str) -> SecretStr:
    """The decrypted key, wrapped so it never prints by accident."""
    return SecretStr(box.open(_row(session, name).stripe_key_encrypted))


def list_all(session: Session) -> list[Engagement]:
    rows = session.scalars(select(EngagementRow).order_by(EngagementRow.name))
    return [Engagement.from_row(r) for r in rows]
