"""Configuration of one replica instance (pydantic, validated once, injected everywhere)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator

PLATFORM_ACCOUNT = "acct_fdesandbox000000"
API_VERSION = "2026-10-28.endive"

FaultKind = Literal["rate_limit", "lock_timeout", "server_error", "latency"]


class FaultRule(BaseModel):
    """Make matching requests fail (or slow down) before they touch any state.

    ``path`` is an fnmatch pattern over the request path (``/v1/customers*``); ``method`` is
    an HTTP method or ``*``. ``rate`` is the probability (seeded RNG, deterministic) that a
    matching request is hit; ``count`` caps how many hits the rule makes (None = unlimited).
    A rule with only ``count`` hits the next ``count`` matching requests.
    """

    method: str = "*"
    path: str = "*"
    kind: FaultKind
    rate: float = Field(default=1.0, ge=0.0, le=1.0)
    count: int | None = Field(default=None, ge=0)
    retry_after: int = Field(default=1, ge=0, description="seconds, for rate_limit")
    latency_ms: int = Field(default=0, ge=0, description="for latency")
    hits: int = Field(default=0, description="how many requests this rule has hit so far")


class ReplicaConfig(BaseModel):
    """Everything a replica needs to start; `create_app(config)` reads nothing else."""

    db_path: Path
    # Where POST /_replica/snapshot writes and /_replica/restore reads (nowhere else): its own
    # folder, so a snapshot can never overwrite a file that shares the database's folder
    # (`fde sandbox up` keeps the replica in FDE_DATA_DIR, beside fde.db and secret.key).
    snapshot_dir: Path | None = None
    platform_account: str = PLATFORM_ACCOUNT
    api_version: str = API_VERSION
    faults: list[FaultRule] = Field(default_factory=list)
    fault_seed: int = 0
    # Seconds to wait before attempt n+1 after a failed attempt n (len = number of retries).
    # Stripe's test mode retries a few times over hours; tests compress this to milliseconds.
    webhook_retry_schedule: list[float] = Field(default_factory=lambda: [60.0, 300.0, 1800.0])
    webhook_timeout: float = Field(default=10.0, gt=0)
    # Sign webhooks with the wall clock (receivers check a 300 s tolerance against theirs);
    # True signs with the replica clock, useful to simulate stale deliveries.
    sign_with_replica_clock: bool = False
    # Replica clock at start: None = real time. `clock_frozen` stops it from moving on its own.
    clock_start: int | None = None
    clock_frozen: bool = False
    tick_seconds: float = Field(default=0.25, gt=0, description="how often due work is polled")
    idempotency_ttl: int = 24 * 3600
    id_seed: int | None = Field(default=None, description="seed ids for reproducible runs")
    # The account's endpoint answers invoice.created with errors: Stripe then finalises
    # automatic drafts after 72 h instead of one hour after a 2xx.
    invoice_created_failing: bool = False

    @property
    def snapshots(self) -> Path:
        """The snapshot folder: `snapshot_dir`, or `snapshots/` beside the database."""
        return (self.snapshot_dir or Path(self.db_path).parent / "snapshots").resolve()

    @model_validator(mode="after")
    def _check(self) -> ReplicaConfig:
        if not self.platform_account.startswith("acct_"):
            raise ValueError("platform_account must start with acct_")
        if self.clock_frozen and self.clock_start is None:
            raise ValueError("clock_frozen needs clock_start")
        return self
