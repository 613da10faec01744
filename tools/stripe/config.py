"""What a gateway needs to know: where Stripe is, which key, which mode, what it may do."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from core.settings import Settings
from tools.stripe.keys import KeyMode
from tools.stripe.tiers import Tier

__all__ = ["API_VERSION", "GatewayConfig"]

API_VERSION = "2026-10-28.endive"
"""The API version the SDK (stripe 16.1.0) is generated for; pinned so types match."""


class GatewayConfig(BaseModel):
    """One Stripe connection. The key is a SecretStr: its repr never shows it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    api_base: str = Field(
        default="https://api.stripe.com",
        description="Stripe, the sandbox replica or localstripe; used for api, files and connect",
    )
    api_key: SecretStr
    expected_mode: KeyMode = Field(description="the engagement's declared mode")
    stripe_account: str | None = Field(
        default=None, pattern=r"^acct_[A-Za-z0-9]+$", description="Connect: act as this account"
    )
    stripe_version: str = API_VERSION
    rate_limit: float = Field(default=25.0, gt=0, description="requests per second, per account")
    burst: int | None = Field(default=None, ge=1, description="default: one second's worth")
    max_retries: int = Field(default=4, ge=0, le=10, description="SDK network retries")
    max_rate_limit_retries: int = Field(default=6, ge=0, le=50, description="429 retries")
    max_retry_after: float = Field(default=60.0, ge=0, description="longest Retry-After we wait")
    timeout: float = Field(default=30.0, gt=0, description="seconds per HTTP attempt")
    tier: Tier = Field(default="read", description="highest tier this gateway may use")
    allow_live_money: bool = Field(
        default=False, description="money-tier writes against a live key (engagement opt-in)"
    )

    @field_validator("api_base")
    @classmethod
    def _base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                f"api_base must be an http(s) URL such as https://api.stripe.com, not {value!r}"
            )
        if parts.query or parts.fragment or "@" in parts.netloc:
            raise ValueError("api_base must not carry credentials, a query or a fragment")
        return value

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        expected_mode: KeyMode,
        tier: Tier = "read",
        api_key: SecretStr | None = None,
        stripe_account: str | None = None,
    ) -> GatewayConfig:
        """The service-wide defaults (FDE_STRIPE_*), with the engagement's key and mode."""
        return cls(
            api_base=settings.stripe_api_base,
            api_key=api_key or settings.stripe_api_key,
            expected_mode=expected_mode,
            stripe_account=stripe_account,
            rate_limit=settings.stripe_rate_limit,
            max_retries=settings.stripe_max_retries,
            timeout=settings.stripe_timeout,
            tier=tier,
        )
