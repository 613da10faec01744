"""Builds gateways for CLI commands: from an engagement, or from the service defaults."""

from __future__ import annotations

import getpass

from cli import context
from core import engagements
from core.engagements import EngagementCreate
from core.secrets import secret_box
from core.settings import Settings
from tools.stripe.config import GatewayConfig
from tools.stripe.gateway import StripeGateway
from tools.stripe.keys import parse_key


def actor() -> str:
    """Who is acting, for the audit log: the OS user running the CLI."""
    try:
        return f"cli:{getpass.getuser()}"
    except OSError:
        return "cli:unknown"


def _default_config(settings: Settings) -> GatewayConfig:
    mode = parse_key(settings.stripe_api_key).mode
    return GatewayConfig.from_settings(settings, expected_mode=mode)


def _engagement_config(settings: Settings, name: str) -> GatewayConfig:
    with context.database().session() as session:
        eng = engagements.get(session, name)
        key = engagements.stripe_key(session, secret_box(settings), name)
    config = GatewayConfig.from_settings(
        settings, expected_mode=eng.stripe_mode, tier=eng.tier, api_key=key
    )
    updates: dict[str, object] = {"allow_live_money": eng.allow_live_money}
    if eng.stripe_api_base:
        updates["api_base"] = eng.stripe_api_base
    return _with(config, **updates)


def gateway(engagement: str | None) -> StripeGateway:
    settings = context.settings()
    if engagement is None:
        return StripeGateway(_default_config(settings))
    return StripeGateway(_engagement_config(settings, engagement))


def gateway_from_spec(settings: Settings, spec: EngagementCreate) -> StripeGateway:
    """A read-only gateway for an engagement that is not stored yet (to verify its key)."""
    config = GatewayConfig.from_settings(
        settings, expected_mode=spec.stripe_mode, api_key=spec.stripe_key
    )
    if spec.stripe_api_base:
        config = _with(config, api_base=spec.stripe_api_base)
    return StripeGateway(config)


def _with(config: GatewayConfig, **updates: object) -> GatewayConfig:
    """A changed copy that is validated again (model_copy would skip the URL check)."""
    return GatewayConfig.model_validate({**config.model_dump(), **updates})
