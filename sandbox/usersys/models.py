"""The sample company's own database, designed the way a small SaaS team would.

The company sells subscriptions (Billing), one-off purchases through Checkout, invoices paid
by card, debit or bank transfer, and runs Connect for its business customers. Its tables use
its own names; Stripe ids sit in ``stripe_*_id`` columns. Conventions:

- money: integer minor units in ``amount``-like columns, with a ``currency`` column (lower case)
- time: timezone-aware UTC ``DateTime`` columns (Stripe's unix seconds converted)
- Connect: ``connect_account_id`` holds the connected account an object lives in (NULL =
  the platform account)
- sync watermark: ``stripe_event_created`` / ``stripe_state_rank`` hold the created time and
  status rank of the newest event snapshot applied to the row (see handler.py)

`mapping.yaml` beside this file tells the reconciliation engine what each column means.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    Select,
    String,
    bindparam,
    create_engine,
    event,
    false,
    func,
    select,
    true,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class _Timestamps:
    # Server defaults too: a row written with plain SQL (a sync job, fde's recon repair)
    # must be accepted, as in a real schema; the ORM's Python defaults cover only the app.
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow, server_default=func.now()
    )


class _Synced(_Timestamps):
    connect_account_id: Mapped[str | None] = mapped_column(String(64), index=True)
    livemode: Mapped[bool | None] = mapped_column(Boolean)
    stripe_event_created: Mapped[int | None] = mapped_column(BigInteger)
    stripe_state_rank: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Account(_Synced, Base):
    """A customer of the company (a business), linked to its Stripe customer."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(255), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    delinquent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    user_ref: Mapped[str | None] = mapped_column(String(64), index=True)  # metadata.user_id
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Subscription(_Synced, Base):
    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    stripe_subscription_id: Mapped[str] = mapped_column(String(64), unique=True)
    plan: Mapped[str | None] = mapped_column(String(255))  # price lookup_key, else price id
    stripe_price_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(32))
    seats: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str | None] = mapped_column(String(3))
    current_period_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    current_period_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False,
                                                       server_default=false())
    canceled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancellation_reason: Mapped[str | None] = mapped_column(String(64))
    trial_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Invoice(_Synced, Base):
    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    stripe_invoice_id: Mapped[str] = mapped_column(String(64), unique=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(64), index=True)
    number: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(32))
    billing_reason: Mapped[str | None] = mapped_column(String(64))
    collection_method: Mapped[str | None] = mapped_column(String(32))
    currency: Mapped[str | None] = mapped_column(String(3))
    subtotal: Mapped[int | None] = mapped_column(BigInteger)
    total: Mapped[int | None] = mapped_column(BigInteger)
    amount_due: Mapped[int | None] = mapped_column(BigInteger)
    amount_paid: Mapped[int | None] = mapped_column(BigInteger)
    amount_remaining: Mapped[int | None] = mapped_column(BigInteger)
    period_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    period_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempt_count: Mapped[int | None] = mapped_column(Integer)


class Payment(_Synced, Base):
    """One row per PaymentIntent (charge fields from its latest charge)."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    stripe_payment_intent_id: Mapped[str] = mapped_column(String(64), unique=True)
    stripe_charge_id: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str | None] = mapped_column(String(32))
    amount: Mapped[int | None] = mapped_column(BigInteger)
    amount_received: Mapped[int | None] = mapped_column(BigInteger)
    amount_refunded: Mapped[int | None] = mapped_column(BigInteger)  # NULL: no charge yet
    currency: Mapped[str | None] = mapped_column(String(3))
    payment_method_type: Mapped[str | None] = mapped_column(String(32))
    failure_code: Mapped[str | None] = mapped_column(String(64))
    feature: Mapped[str | None] = mapped_column(String(128))  # metadata.feature (direct sale)
    order_ref: Mapped[str | None] = mapped_column(String(64), index=True)  # metadata.order_id
    charge_event_created: Mapped[int | None] = mapped_column(BigInteger)


class Refund(_Synced, Base):
    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    stripe_refund_id: Mapped[str] = mapped_column(String(64), unique=True)
    stripe_charge_id: Mapped[str | None] = mapped_column(String(64))
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    status: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(64))
    failure_reason: Mapped[str | None] = mapped_column(String(64))


class Dispute(_Synced, Base):
    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    stripe_dispute_id: Mapped[str] = mapped_column(String(64), unique=True)
    stripe_charge_id: Mapped[str | None] = mapped_column(String(64))
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    status: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(64))
    evidence_due_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Order(_Synced, Base):
    """A Checkout Session; ``status`` is the company's own order state."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    stripe_checkout_session_id: Mapped[str] = mapped_column(String(255), unique=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(64), index=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(64))
    mode: Mapped[str | None] = mapped_column(String(16))
    # pending | awaiting_payment | paid | payment_failed | expired
    status: Mapped[str] = mapped_column(String(32), default="pending",
                                        server_default="pending")
    payment_status: Mapped[str | None] = mapped_column(String(32))
    amount_total: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    feature: Mapped[str | None] = mapped_column(String(128))
    payment_method_types: Mapped[str | None] = mapped_column(String(255))  # comma-separated
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class BankTransfer(_Synced, Base):
    """A customer cash balance transaction (bank transfer funding and its applications)."""

    __tablename__ = "bank_transfers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    stripe_transaction_id: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str | None] = mapped_column(String(64))
    net_amount: Mapped[int | None] = mapped_column(BigInteger)
    ending_balance: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    reference: Mapped[str | None] = mapped_column(String(255))
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(64))
    applied_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    occurred_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Entitlement(Base):
    """Access to a feature. One active row per (source, feature) when the handler is right."""

    __tablename__ = "entitlements"
    __table_args__ = (
        Index("ix_entitlements_source", "source_id", "feature"),
        Index("ix_entitlements_account", "account_id", "feature"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    feature: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoke_reason: Mapped[str | None] = mapped_column(String(64))
    # subscription | checkout_session | payment_intent, and that object's Stripe id
    source_type: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str] = mapped_column(String(255))


class UsageRecord(Base):
    """Metered usage the company's app records and reports to Stripe (not written by webhooks)."""

    __tablename__ = "usage_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(64))
    meter: Mapped[str] = mapped_column(String(128))  # the billing meter's event_name
    quantity: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    identifier: Mapped[str] = mapped_column(String(255), unique=True)  # meter event identifier
    reported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ProcessedWebhook(Base):
    """One row per Stripe event the handler accepted (written in the same transaction)."""

    __tablename__ = "processed_webhooks"
    __table_args__ = (Index("ix_processed_webhooks_created", "event_created"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(128))
    object_id: Mapped[str | None] = mapped_column(String(255), index=True)
    connect_account_id: Mapped[str | None] = mapped_column(String(64))
    livemode: Mapped[bool | None] = mapped_column(Boolean)
    api_version: Mapped[str | None] = mapped_column(String(64))
    event_created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(16))  # applied | stale | ignored


TABLES = tuple(Base.metadata.sorted_tables)


@cache
def by_key(model: type[Any], column: str) -> Select[Any]:
    """``SELECT model WHERE column = :key``, built once per (model, column): the handler runs
    two or three of these per event, and building a statement afresh costs about as much as
    executing it (construction, cache key)."""
    return select(model).where(getattr(model, column) == bindparam("key"))


def make_engine(url: str) -> Engine:
    """An engine for the company DB: SQLite file (WAL, busy timeout) or PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")  # durable enough in WAL mode, much faster
        cur.close()

    return engine


def create_schema(engine: Engine) -> None:
    """Create every table that is missing (the sample system has no migrations)."""
    Base.metadata.create_all(engine)


__all__ = [
    "TABLES", "Account", "BankTransfer", "Base", "Dispute", "Entitlement", "Invoice", "Order",
    "Payment", "ProcessedWebhook", "Refund", "Subscription", "UsageRecord", "by_key",
    "create_schema", "make_engine",
]
