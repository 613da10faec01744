"""How a stored engagement becomes the tools an agent runs with: its gateway, its recon
snapshot, its user system and mapping, the detectors over the same inputs, and the pattern
index when one was built. Shared by the CLI and the API (neither builds these itself)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select

from core import engagements
from core.models import EngagementRow
from core.secrets import secret_box
from core.settings import Settings
from core.storage import Database
from tools.stripe.config import GatewayConfig
from tools.stripe.gateway import StripeGateway

__all__ = ["engagement_gateway", "engagement_tools", "knowledge_opener", "with_updates"]


def with_updates(config: GatewayConfig, **updates: object) -> GatewayConfig:
    """A changed copy that is validated again (model_copy would skip the URL check)."""
    return GatewayConfig.model_validate({**config.model_dump(), **updates})


def engagement_gateway(settings: Settings, db: Database, name: str) -> StripeGateway:
    """The engagement's own gateway: its key, mode, tier and API base."""
    with db.session() as session:
        eng = engagements.get(session, name)
        key = engagements.stripe_key(session, secret_box(settings), name)
    config = GatewayConfig.from_settings(
        settings, expected_mode=eng.stripe_mode, tier=eng.tier, api_key=key
    )
    updates: dict[str, object] = {"allow_live_money": eng.allow_live_money}
    if eng.stripe_api_base:
        updates["api_base"] = eng.stripe_api_base
    return StripeGateway(with_updates(config, **updates))


def knowledge_opener() -> Any:
    """The pattern index opener when it has been built (`fde knowledge index`), else None."""
    from knowledge.config import load_knowledge_settings
    from knowledge.index import open_index

    ks = load_knowledge_settings()
    if ks.chroma_url is None and not ks.effective_chroma_path.exists():
        return None
    return lambda: open_index(ks)


def _ignore(_: str) -> None:
    return None


@contextmanager
def engagement_tools(settings: Settings, db: Database, name: str, *, sync: bool = True,
                     warn: Callable[[str], None] = _ignore) -> Iterator[Any]:
    """A `ToolContext` over a stored engagement (gateway closed on exit); the snapshot is
    synced first unless ``sync`` is False. Problems that only narrow what the tools can
    see (no user DB, an unreachable one) go to ``warn``; an unknown engagement raises."""
    from tools.checks.engagement import EngagementInputs, engagement_context, snapshot_for
    from tools.checks.runner import run_checks
    from tools.envelope import ToolContext
    from tools.recon.adapter import open_user_system
    from tools.recon.errors import UserSystemUnreachable
    from tools.recon.mapping import load_mapping

    box = secret_box(settings)
    with db.session() as session:
        eng = engagements.get(session, name)  # EngagementNotFound → clear error
        row = session.scalar(select(EngagementRow).where(EngagementRow.name == name))
        dsn_token = row.user_db_dsn_encrypted if row else None
    gateway = engagement_gateway(settings, db, name)
    try:
        inputs = EngagementInputs()
        checks_ctx = engagement_context(settings=settings, db=db, box=box, engagement=name,
                                        gateway=gateway if sync else None, sync=sync,
                                        inputs=inputs)
        for warning in inputs.warnings:
            warn(warning)
        user = mapping = None
        if dsn_token and eng.mapping_path:
            mapping = load_mapping(eng.mapping_path)
            try:
                user = open_user_system(box.open(dsn_token), mapping)
            except UserSystemUnreachable as exc:
                warn(str(exc))
        snap = snapshot_for(settings, name)
        tools = ToolContext(
            engagement=name, gateway=gateway, snapshot=snap if snap.root.exists() else None,
            user_system=user, mapping=mapping, expected_livemode=eng.stripe_mode == "live",
            knowledge=knowledge_opener(), findings=lambda: run_checks(checks_ctx).findings)
        try:
            yield tools
        finally:
            if user is not None:
                user.engine.dispose()
    finally:
        gateway.close()
