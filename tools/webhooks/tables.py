"""The webhook_* tables of migration 0003, described with SQLAlchemy Core (the room does not
depend on the shared ORM models module, like tools/recon/store.py)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = ["events", "metadata", "secrets"]

metadata = MetaData()

secrets = Table(
    "webhook_secrets", metadata,
    Column("id", String(40), primary_key=True),
    Column("engagement", String(64), nullable=False),
    Column("secret_encrypted", Text, nullable=False),
    Column("hint", String(32), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

events = Table(
    "webhook_events", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("engagement", String(64), nullable=False),
    Column("event_id", String(255), nullable=False),
    Column("type", String(128), nullable=False),
    Column("account", String(64)),
    Column("livemode", Boolean),
    Column("api_version", String(64)),
    Column("object_id", String(255)),
    Column("object_type", String(64)),
    Column("event_created", BigInteger, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("duplicates", Integer, nullable=False),
    Column("last_received_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("processed_at", DateTime(timezone=True)),
    Column("error", Text),
    Column("body", Text, nullable=False),
    UniqueConstraint("engagement", "event_id", name="uq_webhook_events_event"),
)

_ = JSON  # map/check tables live in their own rooms
