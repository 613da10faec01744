"""Stripe access: the gateway (the only code that talks to Stripe), keys, rate limiting and
inspection. Importing this package opens no connection and reads no key.
"""

from tools.stripe.config import API_VERSION, GatewayConfig
from tools.stripe.gateway import AccountSummary, Resource, StripeGateway
from tools.stripe.inspect import StripeObjectView, get_object, redact_object
from tools.stripe.keys import KeyInfo, check_mode, parse_key, redact_key, scrub_key
from tools.stripe.ratelimit import RateLimiterRegistry, TokenBucket, shared_limiters
from tools.stripe.tiers import Tier, WriteTier, required_tier
from tools.stripe.transport import GatewayStats

__all__ = [
    "API_VERSION",
    "AccountSummary",
    "GatewayConfig",
    "GatewayStats",
    "KeyInfo",
    "RateLimiterRegistry",
    "Resource",
    "StripeGateway",
    "StripeObjectView",
    "Tier",
    "TokenBucket",
    "WriteTier",
    "check_mode",
    "get_object",
    "parse_key",
    "redact_key",
    "redact_object",
    "required_tier",
    "scrub_key",
    "shared_limiters",
]
