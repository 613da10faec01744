"""Tables of the app database. Domain logic lives elsewhere; these are rows only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


class EngagementRow(Base):
    """A user account under care: its Stripe connection and its own system."""

    __tablename__ = "engagements"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    stripe_mode: Mapped[str] = mapped_column(String(8))
    stripe_api_base: Mapped[str | None] = mapped_column(String(255))
    stripe_account_id: Mapped[str | None] = mapped_column(String(64))
    stripe_key_encrypted: Mapped[str] = mapped_column(Text)
    stripe_key_hint: Mapped[str] = mapped_column(String(32))
    connect_accounts: Mapped[list[str]] = mapped_column(default=list)
    user_db_dsn_encrypted: Mapped[str | None] = mapped_column(Text)
    mapping_path: Mapped[str | None] = mapped_column(String(1024))
    webhook_urls: Mapped[list[str]] = mapped_column(default=list)
    tier: Mapped[str] = mapped_column(String(8), default="read")
    allow_live_money: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class AuditRow(Base):
    """Append-only record of every decision and write: who, what, on what, when."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_target", "target"), Index("ix_audit_at", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(255))
    engagement: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
