"""Pantry Box's tables (SQLAlchemy declarative models) and the seeded plan catalogue.

Everything that points at Stripe keeps the Stripe id as a plain string column: events
arrive in any order, so a shipment may be written before its household exists.
Amounts are integers in minor units (pence, cent) next to their ISO currency code.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

# code -> (name, boxes per paid invoice). The shop's catalogue: the Stripe Price of each
# plan carries metadata.plan = code.
PLANS: dict[str, tuple[str, int]] = {
    "duo": ("Duo (2 people)", 1),
    "family": ("Family (4 people)", 2),
    "family_plus": ("Family Plus (6 people)", 3),
}


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Plan(Base):
    __tablename__ = "plan"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    boxes_per_invoice: Mapped[int] = mapped_column(Integer)


class Household(Base):
    __tablename__ = "household"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stripe_customer_id: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(255))
    country: Mapped[str | None] = mapped_column(String(2))
    # `created` of the Stripe event whose snapshot the row holds.
    stripe_as_of: Mapped[int] = mapped_column(BigInteger, default=0)


class BoxSubscription(Base):
    __tablename__ = "box_subscription"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stripe_subscription_id: Mapped[str] = mapped_column(String(64), unique=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(64))
    plan_code: Mapped[str | None] = mapped_column(ForeignKey("plan.code"))
    # active | trial | arrears | paused | ended
    status: Mapped[str] = mapped_column(String(16))
    current_period_end: Mapped[int | None] = mapped_column(BigInteger)
    stripe_as_of: Mapped[int] = mapped_column(BigInteger, default=0)


class PaidInvoice(Base):
    """Every paid Stripe invoice we know of; its boxes are in `shipment`."""

    __tablename__ = "paid_invoice"

    stripe_invoice_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(64))
    stripe_customer_id: Mapped[str | None] = mapped_column(String(64))
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(64))
    amount_paid: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    week: Mapped[str] = mapped_column(String(8))  # ISO week the boxes go out, 2026-W51


class InvoicePayment(Base):
    """Which PaymentIntent paid which invoice (Stripe's invoice_payment objects)."""

    __tablename__ = "invoice_payment"

    stripe_invoice_payment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    stripe_invoice_id: Mapped[str] = mapped_column(String(64), index=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(64), index=True)
    amount_paid: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))


class GiftOrder(Base):
    __tablename__ = "gift_order"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stripe_checkout_session_id: Mapped[str] = mapped_column(String(80), unique=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(64))
    buyer_email: Mapped[str | None] = mapped_column(String(255))
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(64), index=True)
    amount_total: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    # awaiting_payment | paid | payment_failed | refunded
    status: Mapped[str] = mapped_column(String(20))


class Shipment(Base):
    """One box to pack: `kind` box (subscription invoice) or gift (gift order)."""

    __tablename__ = "shipment"
    __table_args__ = (Index("ix_shipment_source", "kind", "source_ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    source_ref: Mapped[str] = mapped_column(String(80))  # invoice id or checkout session id
    stripe_customer_id: Mapped[str | None] = mapped_column(String(64))
    plan_code: Mapped[str | None] = mapped_column(String(32))
    week: Mapped[str] = mapped_column(String(8))
    box_number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="to_pack")  # to_pack | refunded
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class DunningNotice(Base):
    __tablename__ = "dunning_notice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stripe_invoice_id: Mapped[str] = mapped_column(String(64), index=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(64))
    stripe_customer_id: Mapped[str | None] = mapped_column(String(64))
    attempt_count: Mapped[int] = mapped_column(Integer)
    amount_due: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    next_payment_attempt: Mapped[int | None] = mapped_column(BigInteger)


class RefundNote(Base):
    """What Stripe has refunded on one charge, and what it was for."""

    __tablename__ = "refund_note"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stripe_charge_id: Mapped[str] = mapped_column(String(64), unique=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(64))
    stripe_invoice_id: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(Integer)  # minor units, refunded so far
    currency: Mapped[str] = mapped_column(String(3))
    target_kind: Mapped[str | None] = mapped_column(String(12))  # shipment | gift_order
    target_ref: Mapped[str | None] = mapped_column(String(80))


class ProcessedEvent(Base):
    __tablename__ = "processed_event"
    stripe_event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    processed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# -- engine and schema ------------------------------------------------------------------
def make_engine(url: str) -> Engine:
    """SQLite with one writer at a time: every transaction starts with BEGIN IMMEDIATE, so
    two deliveries of the same event cannot both read "not processed yet". A bare file
    path is taken as a SQLite database."""
    if "://" not in url:
        url = f"sqlite:///{url}"
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn, _record):  # pragma: no cover - driver glue
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):  # pragma: no cover - driver glue
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


def seed_plans(session: Session) -> None:
    """(Re)load the plan catalogue: the app cannot ship anything without it."""
    for code, (name, boxes) in PLANS.items():
        plan = session.get(Plan, code)
        if plan is None:
            session.add(Plan(code=code, name=name, boxes_per_invoice=boxes))
        else:
            plan.name, plan.boxes_per_invoice = name, boxes


def create_schema(engine: Engine) -> None:
    Base.metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        seed_plans(session)


DATA_TABLES = [ProcessedEvent, RefundNote, DunningNotice, Shipment, GiftOrder, InvoicePayment,
               PaidInvoice, BoxSubscription, Household]


def reset_data(session: Session) -> None:
    """Drop every row except the plan catalogue, then re-seed the plans."""
    for model in DATA_TABLES:
        session.query(model).delete()
    seed_plans(session)


def plan_boxes(session: Session, code: str | None) -> int | None:
    if code is None:
        return None
    return session.scalar(select(Plan.boxes_per_invoice).where(Plan.code == code))
