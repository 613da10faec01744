"""The advisor's input (one logged API request) and output (findings with calls saved).

Calls saved per day, for every finding, is one stated formula:

    calls_saved_per_day = avoidable_calls * 86400 // window_seconds
    window_seconds      = max(last request time - first request time, 3600)

i.e. the observed window is assumed representative and scaled to 24 h; windows shorter
than an hour count as an hour so a few seconds of traffic are never blown up into a day.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "DAY_SECONDS",
    "MIN_WINDOW_SECONDS",
    "Advice",
    "AdviceFinding",
    "FindingKind",
    "RequestRecord",
    "Severity",
    "calls_per_day",
    "window_seconds",
]

DAY_SECONDS = 86_400
MIN_WINDOW_SECONDS = 3_600

Severity = Literal["high", "medium", "low"]
FindingKind = Literal[
    "polling_instead_of_webhooks",
    "n_plus_one_retrieves",
    "list_without_limit",
    "missing_idempotency_key",
    "rate_limit_burst",
    "search_read_after_write",
    "api_version_spread",
]


class RequestRecord(BaseModel):
    """One API request as Stripe's request log (or the replica's) shows it."""

    model_config = ConfigDict(extra="forbid")

    request_id: str = Field(min_length=1)
    at: int = Field(ge=0, description="unix seconds")
    method: Literal["GET", "POST", "DELETE"]
    path: str = Field(pattern=r"^/v1/")
    query: str = Field(default="", description="raw query string, without the leading ?")
    status: int = Field(ge=100, le=599)
    api_version: str | None = None
    idempotency_key: str | None = None
    account: str | None = None

    @field_validator("at", mode="before")
    @classmethod
    def _iso_time(cls, value: Any) -> Any:
        """Unix seconds, or an ISO 8601 time with its offset (``2026-01-05T10:00:00Z``)."""
        if isinstance(value, str) and not value.strip().isdigit():
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                raise ValueError("an ISO time needs its UTC offset, e.g. 2026-01-05T10:00:00Z")
            return int(parsed.timestamp())
        return value

    def params(self) -> dict[str, list[str]]:
        """Query parameters; ``expand[0]``/``expand[]`` both become ``expand``."""
        out: dict[str, list[str]] = {}
        for key, value in parse_qsl(self.query, keep_blank_values=True):
            name = key.split("[", 1)[0] if key.startswith("expand[") else key
            out.setdefault(name, []).append(value)
        return out

    def param(self, name: str) -> str | None:
        values = self.params().get(name)
        return values[0] if values else None


class AdviceFinding(BaseModel):
    kind: FindingKind
    severity: Severity
    summary: str
    explanation: str
    fix: str
    evidence: list[str] = Field(description="request ids (first ones, capped) and paths")
    first_at: int
    last_at: int
    calls_observed: int = Field(description="requests in the log that show the problem")
    avoidable_calls: int = Field(description="of those, calls the fix removes")
    calls_saved_per_day: int
    formula: str = Field(description="the arithmetic behind calls_saved_per_day")


class Advice(BaseModel):
    source: str
    requests: int
    first_at: int | None
    last_at: int | None
    window_seconds: int
    findings: list[AdviceFinding]


def window_seconds(records: list[RequestRecord]) -> int:
    if not records:
        return MIN_WINDOW_SECONDS
    return max(max(r.at for r in records) - min(r.at for r in records), MIN_WINDOW_SECONDS)


def calls_per_day(avoidable: int, window: int) -> tuple[int, str]:
    saved = avoidable * DAY_SECONDS // window
    return saved, f"{avoidable} avoidable × 86400 s ÷ {window} s window = {saved}/day"
