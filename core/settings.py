"""Service settings: one BaseSettings, read from FDE_* variables and an optional .env file.

Built once at start-up (`load_settings()`) and passed down; nothing reads the environment
anywhere else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import ConfigError

S = TypeVar("S", bound=BaseSettings)

SANDBOX_API_KEY = "sk_test_fdesandbox0000000000000000"
"""The key the embedded defaults use against the local replica; it is not a secret."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FDE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(default=Path(".fde"), description="where SQLite files and keys live")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; SQLite file in data_dir when unset"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["console", "json"] = "console"

    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=0, le=65535)

    webhook_max_body_bytes: int = Field(
        default=512 * 1024, ge=1024, description="largest webhook body the receiver accepts"
    )

    stripe_api_base: str = Field(
        default="", description="Stripe, the sandbox replica or localstripe; unset: the "
                                "replica at FDE_REPLICA_HOST:FDE_REPLICA_PORT"
    )
    stripe_api_key: SecretStr = Field(
        default=SecretStr(SANDBOX_API_KEY), description="key used when no engagement is named"
    )
    stripe_rate_limit: float = Field(default=25.0, gt=0, description="requests per second")
    stripe_max_retries: int = Field(default=4, ge=0, le=10)
    stripe_timeout: float = Field(default=30.0, gt=0)

    replica_host: str = "127.0.0.1"
    replica_port: int = Field(default=12111, ge=0, le=65535)
    handler_port: int = Field(
        default=12112, ge=0, le=65535, description="the sandbox company's webhook app"
    )

    secret_key: SecretStr | None = Field(
        default=None, description="Fernet key for secrets at rest; generated in data_dir if unset"
    )

    # -- API: run queue, streams, escalations ([G]) --
    api_workers: int = Field(default=2, ge=0, le=64,
                             description="in-process run workers of `fde serve` (0: none)")
    api_run_lease_seconds: float = Field(
        default=30.0, gt=0, description="a run's lease; renewed while it runs, re-claimed after"
    )
    api_poll_seconds: float = Field(default=0.5, gt=0,
                                    description="how often idle workers look for queued runs")
    api_sse_heartbeat_seconds: float = Field(default=15.0, gt=0)
    api_escalation_claim_seconds: float = Field(default=900.0, gt=0)
    api_two_approver_major: int = Field(
        default=500, ge=0,
        description="money actions above this many major units of their own currency (500 = "
                    "EUR 500.00, JPY 500, BHD 500.000) need two different approvers",
    )
    api_graphs: str = Field(
        default="", description="extra assistants: name=module:factory,... (factory(checkpointer))"
    )
    autopilot: bool = Field(
        default=False, description="`fde serve` also runs the autopilot scheduler in-process"
    )
    autopilot_poll_seconds: float = Field(
        default=30.0, gt=0, description="seconds between the in-process autopilot's ticks"
    )

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if not scheme.startswith(("sqlite", "postgresql")):
            raise ValueError(
                f"unsupported database URL scheme {scheme or '(none)'!r}; use "
                "sqlite:///path/to/file.db or postgresql+psycopg://user@host:5432/dbname"
            )
        if scheme.startswith("postgresql") and "+" not in scheme:
            # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
            value = value.replace(scheme, "postgresql+psycopg", 1)
        return value

    @model_validator(mode="after")
    def _stripe_defaults_to_the_sandbox(self) -> Settings:
        # One place decides where Stripe is: moving the replica (FDE_REPLICA_PORT) moves the
        # CLI, `fde doctor` and /info with it unless FDE_STRIPE_API_BASE names another base.
        if not self.stripe_api_base:
            self.stripe_api_base = self.replica_url
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'fde.db').resolve()}"

    @property
    def replica_url(self) -> str:
        """Where clients reach the replica (a wildcard bind address is reached on loopback)."""
        host = "127.0.0.1" if self.replica_host in ("", "0.0.0.0", "::") else self.replica_host
        return f"http://{host}:{self.replica_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self.api_host}:{self.api_port}"


def build_settings(cls: type[S], **overrides: object) -> S:
    """Build any FDE_* settings class, turning validation errors into one clear ConfigError."""
    try:
        return cls(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"FDE_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(
            f"invalid configuration: {problems}",
            hint="fix the variable in your environment or .env file (see README, Configuration)",
        ) from None


def load_settings(**overrides: object) -> Settings:
    return build_settings(Settings, **overrides)
