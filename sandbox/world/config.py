"""What a world is built from: seed, size and bug switches — validated once.

`WorldConfig.key` names a build: the same key always produces the same bytes, so a built
world can be cached and reused (``fde sandbox up`` does).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.errors import ConfigError
from sandbox.bugs import parse_bugs

Size = Literal["tiny", "demo", "medium", "large"]
MAX_SEED = 2**31 - 1
DAY = 86_400
HISTORY_DAYS = 60
# The world's "now": every build ends here, so timestamps never depend on the wall clock.
WORLD_NOW = int(datetime(2026, 3, 2, tzinfo=UTC).timestamp())
GENERATOR_VERSION = 5  # 3: recon_none in manifests, server defaults in the company schema;
# 4: the company's Stripe calls as an OTLP trace export (CALLS); 5: pending_webhooks 0 on
# events sent before any endpoint existed (FM-25)


class SizeSpec(BaseModel):
    """How many of each scenario's actors a size has (behaviour-driven part)."""

    model_config = ConfigDict(frozen=True)

    customers: int  # platform customers with subscriptions (lifecycle scenario)
    one_off: int  # direct purchases / checkout orders per payment method
    connect_customers: int  # customers per connected account
    usage_days: int  # days of metered usage reported per metered subscription
    history_customers: int = 0  # bulk-loaded settled history (large only, see bulk/)


SIZES: dict[str, SizeSpec] = {
    # tiny: every lifecycle fate and payment path once (per-switch tests)
    "tiny": SizeSpec(customers=20, one_off=1, connect_customers=2, usage_days=3),
    "demo": SizeSpec(customers=40, one_off=2, connect_customers=3, usage_days=5),
    "medium": SizeSpec(customers=400, one_off=10, connect_customers=20, usage_days=20),
    # The large window is medium's; its volume is the bulk-loaded history (bulk/).
    "large": SizeSpec(customers=400, one_off=10, connect_customers=20, usage_days=20,
                      history_customers=3_500),
}


def check_seed(seed: int) -> int:
    if not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"seed {seed} is out of range; use 0..{MAX_SEED}",
                          hint="pass --seed N with 0 <= N <= 2**31-1")
    return seed


def check_size(size: str) -> str:
    if size not in SIZES:
        raise ConfigError(f"unknown world size {size!r}; valid sizes: {', '.join(SIZES)}",
                          hint="pass --size " + "|".join(SIZES))
    return size


class WorldConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    seed: int = Field(default=0)
    size: str = "demo"
    bugs: frozenset[str] = frozenset()

    @field_validator("seed")
    @classmethod
    def _seed(cls, value: int) -> int:
        return check_seed(value)

    @field_validator("size")
    @classmethod
    def _size(cls, value: str) -> str:
        return check_size(value)

    @field_validator("bugs", mode="before")
    @classmethod
    def _bugs(cls, value: object) -> frozenset[str]:
        return parse_bugs(value)  # type: ignore[arg-type]

    @classmethod
    def parse(cls, *, seed: int = 0, size: str = "demo", bugs: str | None = None) -> WorldConfig:
        """From CLI-style strings; raises `ConfigError` (never pydantic's ValidationError)."""
        return cls(seed=check_seed(seed), size=check_size(size), bugs=parse_bugs(bugs))

    @property
    def spec(self) -> SizeSpec:
        return SIZES[self.size]

    @property
    def start(self) -> int:
        return WORLD_NOW - HISTORY_DAYS * DAY

    @property
    def end(self) -> int:
        return WORLD_NOW

    @property
    def key(self) -> str:
        bugs = ",".join(sorted(self.bugs)) or "none"
        raw = f"v{GENERATOR_VERSION}|{self.seed}|{self.size}|{bugs}"
        return f"{self.size}-s{self.seed}-" + hashlib.sha256(raw.encode()).hexdigest()[:10]


__all__ = ["DAY", "HISTORY_DAYS", "MAX_SEED", "SIZES", "WORLD_NOW", "SizeSpec", "WorldConfig",
           "check_seed", "check_size"]
