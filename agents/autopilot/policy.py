"""An engagement's autopilot policy: its schedule, what may be repaired without a person, what
always escalates, money thresholds, quiet hours, live-mode restrictions, notifications.

Written in YAML, validated here (unknown keys, unknown discrepancy classes or check ids, and
any money-moving action marked automatic are errors that name the offending entry). Money
moves are never automatic: the only automatic repair is `upsert_local` (the user's row is
rewritten from Stripe's truth), and only for the classes where recon proposes it.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.errors import ConfigError
from core.money import UnknownCurrency, exponent
from tools.checks.registry import CHECKS
from tools.recon.models import DiscrepancyClass
from tools.recon.repair import propose_fields
from tools.recon.sync.types import resolve_types
from tools.registry import default_registry

__all__ = ["JOB_KINDS", "AutoDecision", "JobKind", "Policy", "PolicyError", "parse_policy"]

JobKind = Literal["sync", "map_refresh", "checks", "reconcile", "shadow"]
JOB_KINDS: tuple[JobKind, ...] = ("sync", "map_refresh", "checks", "reconcile", "shadow")
AUTOMATIC_ACTIONS = ("upsert_local",)
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class PolicyError(ConfigError):
    default_hint = ("fix the policy file and set it again; `fde autopilot policy show NAME` "
                    "prints the current one")


def _seconds(value: object) -> int | None:
    if value is None or isinstance(value, bool):
        return None if value is None else _bad_duration(value)
    if isinstance(value, int):
        return value
    match = _DURATION.match(str(value))
    if not match:
        return _bad_duration(value)
    return int(match.group(1)) * _UNITS[match.group(2)]


def _bad_duration(value: object) -> int:
    raise ValueError(f"{value!r} is not a duration; use seconds or 30s / 15m / 6h / 1d")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Schedule(_Strict):
    """Seconds between runs per job kind (null: never); shadow runs on a new handler version."""

    sync: int | None = Field(default=900, ge=1)
    map_refresh: int | None = Field(default=3600, ge=1)
    checks: int | None = Field(default=3600, ge=1)
    reconcile: int | None = Field(default=6 * 3600, ge=1)
    shadow: bool = Field(default=True, description="re-run shadow tests on a new handler version")
    jitter: float = Field(default=0.1, ge=0, le=0.5,
                          description="each job's offset, as a fraction of its interval (seeded)")
    sync_types: list[str] | None = Field(default=None, description="Stripe object types synced")

    @field_validator("sync", "map_refresh", "checks", "reconcile", mode="before")
    @classmethod
    def _duration(cls, value: object) -> int | None:
        return _seconds(value)

    @field_validator("sync_types")
    @classmethod
    def _types(cls, value: list[str] | None) -> list[str] | None:
        return resolve_types(value) if value else value

    def interval(self, kind: JobKind) -> int | None:
        return None if kind == "shadow" else getattr(self, kind)


class RepairRule(_Strict):
    """`class` may be repaired automatically (for these `entities`, or all when empty)."""

    class_: str = Field(alias="class")
    entities: list[str] = Field(default_factory=list)
    action: str = "upsert_local"

    @model_validator(mode="after")
    def _automatable(self) -> RepairRule:
        try:
            cls = DiscrepancyClass(self.class_)
        except ValueError:
            raise ValueError(f"unknown discrepancy class {self.class_!r}; known: "
                             f"{', '.join(c.value for c in DiscrepancyClass)}") from None
        tool = default_registry().get(self.action)
        if tool is not None and tool.tier == "money":
            raise ValueError(f"action {self.action!r} for {cls.value} moves money: money "
                             "actions are never automatic (an engineer approves each one)")
        if self.action not in AUTOMATIC_ACTIONS:
            raise ValueError(f"action {self.action!r} for {cls.value} cannot run automatically; "
                             f"automatic actions: {', '.join(AUTOMATIC_ACTIONS)}")
        for entity in self.entities or ["row"]:
            repair = propose_fields(cls=cls.value, entity=entity, stripe_id="x", local_key=None,
                                    fields=[], needs_review=False, confidence=None, events=1,
                                    fallback="x")
            if repair["tier"] == "money":
                raise ValueError(f"{cls.value} is repaired by a money action "
                                 f"({repair['summary']}): money actions are never automatic")
            if repair["kind"] != self.action:
                raise ValueError(f"{cls.value} on {entity} has no automatic repair (recon "
                                 f"proposes {repair['kind']}: {repair['summary']})")
        return self

    def covers(self, cls: str, entity: str) -> bool:
        return self.class_ == cls and (not self.entities or entity in self.entities)


class QuietHours(_Strict):
    """UTC wall-clock window with no automatic repairs (cases wait for the next tick)."""

    start: time
    end: time

    def contains(self, at: datetime) -> bool:
        now = at.timetz().replace(tzinfo=None)
        if self.start <= self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end


class Notify(_Strict):
    webhooks: list[str] = Field(default_factory=list)
    email: list[str] = Field(default_factory=list, description="digest recipients")
    sla_hours: float = Field(default=24.0, gt=0,
                             description="an escalation open longer than this is a breach")

    @field_validator("webhooks")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not re.match(r"^https?://[^\s/@]+(/\S*)?$", url):
                raise ValueError(f"webhook {url!r} is not an http(s) URL without credentials")
        return value


class Policy(_Strict):
    version: Literal[1] = 1
    schedule: Schedule = Field(default_factory=Schedule)
    auto_repair: list[RepairRule] = Field(default_factory=list)
    auto_resolve_checks: list[str] = Field(
        default_factory=list,
        description="check ids whose cases close when the check stops firing after a repair")
    always_escalate: list[str] = Field(default_factory=list,
                                       description="classes or check ids never handled alone")
    max_auto_money_minor: dict[str, int] = Field(
        default_factory=dict,
        description="per currency: a repair whose money impact is larger escalates")
    quiet_hours: QuietHours | None = None
    live_mode_auto_repair: bool = Field(
        default=False, description="automatic repairs on a live-mode engagement")
    triage: bool = Field(default=True, description="run the triage graph on each new case")
    notify: Notify = Field(default_factory=Notify)

    @field_validator("auto_resolve_checks")
    @classmethod
    def _checks(cls, value: list[str]) -> list[str]:
        for check in value:
            if check not in CHECKS:
                raise ValueError(f"unknown check id {check!r} (see `fde check list`)")
        return value

    @field_validator("always_escalate")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        classes = {c.value for c in DiscrepancyClass}
        for name in value:
            if name not in classes and name not in CHECKS:
                raise ValueError(f"{name!r} is neither a discrepancy class nor a check id")
        return value

    @field_validator("max_auto_money_minor")
    @classmethod
    def _currencies(cls, value: dict[str, int]) -> dict[str, int]:
        out = {}
        for currency, limit in value.items():
            try:
                exponent(currency)
            except UnknownCurrency:
                raise ValueError(f"unknown currency {currency!r}") from None
            if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
                raise ValueError(f"{currency}: the limit is a non-negative integer of minor "
                                 f"units, not {limit!r}")
            out[currency.lower()] = limit
        return out

    @model_validator(mode="after")
    def _no_conflicts(self) -> Policy:
        for rule in self.auto_repair:
            if rule.class_ in self.always_escalate:
                raise ValueError(f"{rule.class_} is both in auto_repair and always_escalate")
        for check in self.auto_resolve_checks:
            if check in self.always_escalate:
                raise ValueError(f"{check} is both in auto_resolve_checks and always_escalate")
        return self

    # -- decisions ----------------------------------------------------------------------------

    def repair_decision(self, *, cls: str, entity: str, money_minor: int | None,
                        currency: str | None, livemode: bool, at: datetime) -> AutoDecision:
        if cls in self.always_escalate:
            return AutoDecision(auto=False, why=f"policy: {cls} always escalates")
        if not any(r.covers(cls, entity) for r in self.auto_repair):
            return AutoDecision(auto=False, why=f"policy: no automatic repair for {cls} on "
                                f"{entity}")
        if livemode and not self.live_mode_auto_repair:
            return AutoDecision(auto=False, why="policy: no automatic repairs in live mode")
        if money_minor:
            limit = self.max_auto_money_minor.get((currency or "").lower(), 0)
            if abs(money_minor) > limit:
                return AutoDecision(auto=False, why=f"money impact {abs(money_minor)} "
                                    f"{(currency or '?').upper()} (minor) exceeds the automatic "
                                    f"limit {limit}")
        if self.quiet_hours is not None and self.quiet_hours.contains(at):
            return AutoDecision(auto=False, defer=True, why="quiet hours: repair deferred")
        return AutoDecision(auto=True, why="policy allows the automatic repair")

    def finding_decision(self, check: str) -> AutoDecision:
        if check in self.always_escalate:
            return AutoDecision(auto=False, why=f"policy: {check} always escalates")
        if check in self.auto_resolve_checks:
            return AutoDecision(auto=True, why="policy: closes when the check stops firing")
        return AutoDecision(auto=False, why=f"policy: {check} is not resolved automatically")


class AutoDecision(BaseModel):
    auto: bool
    why: str
    defer: bool = False


def parse_policy(source: str) -> Policy:
    """YAML text → Policy; every problem in one PolicyError naming where it is."""
    try:
        raw = yaml.safe_load(source) if source.strip() else {}
    except yaml.YAMLError as exc:
        raise PolicyError(f"the policy is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise PolicyError("the policy must be a YAML mapping (schedule:, auto_repair:, ...)")
    try:
        return Policy.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'policy'}: "
            f"{err['msg'].removeprefix('Value error, ')}" for err in exc.errors())
        raise PolicyError(f"invalid autopilot policy: {problems}") from None
