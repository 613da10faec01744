"""What the app database keeps for blueprints (migration 0006_blueprints).

- ``blueprint_settings``: engagement configuration that is not a Stripe object (dunning and
  entitlement policy, checkout configurations, late-usage and credit-note policy);
- ``blueprint_approvals``: an engineer's approval of one plan digest, with the plan itself;
- ``blueprint_items``: progress of an apply, one row per finished item, so a re-run resumes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

__all__ = ["done_items", "load_approval", "read_settings", "record_item", "save_approval",
           "sent_usage", "write_setting"]

_meta = MetaData()
settings_table = Table(
    "blueprint_settings", _meta,
    Column("engagement", String(64), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("blueprint", String(128)), Column("body", JSON),
    Column("updated_at", DateTime(timezone=True)), Column("updated_by", String(128)),
)
approvals = Table(
    "blueprint_approvals", _meta,
    Column("token", String(40), primary_key=True), Column("engagement", String(64)),
    Column("blueprint", String(128)), Column("digest", String(32)), Column("approver", String(128)),
    Column("created_at", DateTime(timezone=True)), Column("plan", JSON),
)
# the item an apply records before its first write: the approved plan is then what runs
STARTED = "@started"
items = Table(
    "blueprint_items", _meta,
    Column("approval", String(40), primary_key=True),
    Column("item_key", String(255), primary_key=True),
    Column("engagement", String(64)), Column("blueprint", String(128)),
    Column("action", String(16)), Column("status", String(16)), Column("result", JSON),
    Column("applied_at", DateTime(timezone=True)),
)


def read_settings(session: Session, engagement: str, prefix: str) -> dict[str, dict[str, Any]]:
    rows = session.execute(select(settings_table.c.key, settings_table.c.body).where(
        settings_table.c.engagement == engagement, settings_table.c.key.startswith(prefix)))
    return {key: body for key, body in rows}


def write_setting(session: Session, engagement: str, key: str, *, blueprint: str,
                  body: dict[str, Any], actor: str) -> None:
    now = datetime.now(UTC)
    values = {"blueprint": blueprint, "body": body, "updated_at": now, "updated_by": actor}
    found = session.execute(update(settings_table).where(
        settings_table.c.engagement == engagement, settings_table.c.key == key).values(**values))
    if not found.rowcount:
        session.execute(insert(settings_table).values(engagement=engagement, key=key, **values))


def save_approval(session: Session, *, token: str, engagement: str, blueprint: str, digest: str,
                  approver: str, plan: dict[str, Any]) -> None:
    session.execute(insert(approvals).values(
        token=token, engagement=engagement, blueprint=blueprint, digest=digest,
        approver=approver, created_at=datetime.now(UTC), plan=plan))


def load_approval(session: Session, token: str) -> dict[str, Any] | None:
    row = session.execute(select(approvals).where(approvals.c.token == token)).first()
    return None if row is None else dict(row._mapping)


def done_items(session: Session, approval: str) -> dict[str, dict[str, Any]]:
    rows = session.execute(select(items.c.item_key, items.c.result).where(
        items.c.approval == approval, items.c.status == "done"))
    return {key: result for key, result in rows}


def record_item(session: Session, *, approval: str, engagement: str, blueprint: str,
                item_key: str, action: str, result: dict[str, Any],
                status: str = "done") -> None:
    """One item's outcome under an approval; a retry's outcome replaces a failed one."""
    session.execute(delete(items).where(items.c.approval == approval,
                                        items.c.item_key == item_key,
                                        items.c.status == "failed"))
    session.execute(insert(items).values(
        approval=approval, item_key=item_key, engagement=engagement, blueprint=blueprint,
        action=action, status=status, result=result, applied_at=datetime.now(UTC)))


def sent_usage(session: Session, engagement: str, blueprint: str) -> set[str]:
    """Usage rows already sent as meter events by any apply of this blueprint (Stripe has no
    way to list meter events, so this ledger is what a plan compares the source against)."""
    rows = session.execute(select(items.c.item_key).where(
        items.c.engagement == engagement, items.c.blueprint == blueprint,
        items.c.status == "done", items.c.item_key.startswith("usage:")))
    return {key for (key,) in rows}
