"""A `CheckContext` for a stored engagement: its recon snapshot (synced first unless told
not to), its user system, its delivery log and inbox, its integration profile.

Used by `fde check`, `fde map` and the API; the gateway and database come in from the
caller (no globals).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field
from sqlalchemy import select

from core import engagements
from core.models import EngagementRow
from core.secrets import SecretBox
from core.settings import Settings
from core.storage import Database
from tools.checks.context import CheckContext, Delivery
from tools.checks.export import Export
from tools.checks.sources import (
    build_context,
    deliveries_from_inbox,
    load_profile,
)
from tools.recon.adapter import UserSystem, open_user_system
from tools.recon.errors import UserSystemUnreachable
from tools.recon.mapping import Mapping, load_mapping
from tools.recon.sync import Snapshot, run_sync
from tools.recon.sync.full import Lister

__all__ = ["EngagementInputs", "engagement_context", "profile_path", "snapshot_for"]


class EngagementInputs(BaseModel):
    warnings: list[str] = Field(default_factory=list)
    tables: dict[str, str] = Field(default_factory=dict)


def profile_path(settings: Settings, engagement: str) -> Path:
    """Where the engagement's integration.yaml (its declared handlers) lives."""
    return settings.data_dir / "engagements" / engagement / "integration.yaml"


def snapshot_for(settings: Settings, engagement: str) -> Snapshot:
    return Snapshot(settings.data_dir / "recon" / engagement / "snapshot")


def _user(db: Database, box: SecretBox, name: str, warnings: list[str]
          ) -> tuple[UserSystem | None, Mapping | None]:
    with db.session() as session:
        eng = engagements.get(session, name)
        row = session.scalar(select(EngagementRow).where(EngagementRow.name == name))
        token = row.user_db_dsn_encrypted if row else None
    if not token or not eng.mapping_path:
        warnings.append("no user database or mapping: user-side checks are skipped")
        return None, None
    mapping = load_mapping(eng.mapping_path)
    try:
        return open_user_system(box.open(token), mapping), mapping
    except UserSystemUnreachable as exc:
        warnings.append(str(exc))
        return None, mapping


def _deliveries(db: Database, name: str) -> list[Delivery]:
    """What our receiver got (the second endpoint on the account's events)."""
    with db.session() as session:
        return deliveries_from_inbox(session, name)


def engagement_context(*, settings: Settings, db: Database, box: SecretBox, engagement: str,
                       gateway: Lister | None, sync: bool = True,
                       inputs: EngagementInputs | None = None,
                       export: Export | None = None) -> CheckContext:
    """`gateway` None (or ``sync=False``) reads the snapshot as it is; `export` adds a
    delivery file the user handed over (tools/checks/export.py)."""
    inputs = inputs if inputs is not None else EngagementInputs()
    with db.session() as session:
        eng = engagements.get(session, engagement)
    snap = snapshot_for(settings, engagement)
    if sync and gateway is not None:
        report = run_sync(gateway, snap)
        inputs.warnings += report.warnings
        inputs.warnings += [f"Stripe {t} not synced: {why}"
                            for t, why in report.unavailable.items()]
    user, mapping = _user(db, box, engagement, inputs.warnings)
    if mapping is not None:
        inputs.tables = {e.stripe_object: e.table for e in mapping.entities.values()
                         if e.stripe_object}
    profile = load_profile(profile_path(settings, engagement))
    if profile.expected_livemode is None:
        profile = profile.model_copy(update={"expected_livemode": eng.stripe_mode == "live"})
    deliveries = _deliveries(db, engagement) + (export.deliveries if export else [])
    try:
        ctx = build_context(snapshot=snap, user=user, deliveries=deliveries, profile=profile,
                            engagement=engagement, warnings=inputs.warnings,
                            exported=bool(export and export.attempts),
                            pending_gateway=gateway if sync else None)
        if sync and gateway is not None:
            # Stripe emits no events about endpoints: the events cursor never refreshes them,
            # so they are listed on every run (a handful of objects).
            ctx.objects["webhook_endpoint"] = [
                {**ep, "_account": None} for ep in gateway.list_all("/v1/webhook_endpoints")]
            ctx.available = ctx.available | {"stripe"}
        return ctx
    finally:
        if user is not None:
            user.engine.dispose()
