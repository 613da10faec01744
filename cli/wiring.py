"""Builds gateways for CLI commands: from an engagement, or from the service defaults."""

from __future__ import annotations

import getpass

from agents.wiring import engagement_gateway, with_updates
from cli import context
from core.engagements import EngagementCreate
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


def gateway(engagement: str | None) -> StripeGateway:
    settings = context.settings()
    if engagement is None:
        return StripeGateway(_default_config(settings))
    return engagement_gateway(settings, context.database(), engagement)


def gateway_from_spec(settings: Settings, spec: EngagementCreate) -> StripeGateway:
    """A read-only gateway for an engagement that is not stored yet (to verify its key)."""
    config = GatewayConfig.from_settings(
        settings, expected_mode=spec.stripe_mode, api_key=spec.stripe_key
    )
    if spec.stripe_api_base:
        config = with_updates(config, api_base=spec.stripe_api_base)
    return StripeGateway(config)
