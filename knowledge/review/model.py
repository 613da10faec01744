"""The architecture description an engineer writes for `fde review` (see
knowledge/examples/*.yaml). Every section is optional; unknown keys are an error that
lists all of them, so a typo never silently disables a check."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import ConfigError

__all__ = ["Architecture", "IntegrationMap", "load_architecture", "load_integration_map"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Component(_Strict):
    name: str
    kind: str = "service"
    description: str = ""


class DataStore(_Strict):
    name: str
    kind: str
    holds: list[str] = Field(default_factory=list)


class WebhookEndpoint(_Strict):
    url: str
    events: list[str] = Field(default_factory=list)
    api_version: str | None = None
    connect: bool = False


class Webhooks(_Strict):
    endpoints: list[WebhookEndpoint] = Field(default_factory=list)
    signature: Literal["raw_body", "parsed_body", "none"] | None = None
    tolerance_seconds: int | None = None
    secrets: Literal["per_endpoint", "shared"] | None = None
    processing: Literal["queued", "inline"] | None = None
    unknown_events: Literal["2xx", "error"] | None = None
    dedupe: Literal["event_id_unique", "in_memory", "none"] | None = None
    fulfilment_key: Literal["object", "event"] | None = None
    ordering: Literal["refetch", "version_check", "payload"] | None = None
    checks_livemode: bool | None = None
    alerting: bool | None = None
    replay: Literal["events_api", "manual", "none"] | None = None
    reconciliation: Literal["daily", "none"] | None = None


class Keys(_Strict):
    kind: Literal["restricted", "secret"] | None = None
    storage: Literal["secret_manager", "env", "config_file", "code", "database"] | None = None
    rotation: bool | None = None


class StripeUse(_Strict):
    api_version: str | None = None
    sdk_api_version: str | None = None
    objects: list[str] = Field(default_factory=list)
    keys: Keys = Field(default_factory=Keys)
    environments: Literal["separate_keys", "shared_keys"] | None = None
    idempotency_keys: Literal["deterministic", "random_per_attempt", "none"] | None = None
    search_read_after_write: bool | None = None
    rate_limit_rps: float | None = None
    retries_429: bool | None = None


class Billing(_Strict):
    entitlements_from: Literal[
        "subscription_status", "checkout_redirect", "subscription_created", "invoice_paid"
    ] | None = None
    access_statuses: list[str] = Field(default_factory=list)
    dunning_end_state: Literal["canceled", "unpaid", "past_due"] | None = None
    revokes_on: list[str] = Field(default_factory=list, description="events that revoke access")
    card_update_sets: Literal["subscription_default", "customer_default"] | None = None
    proration_behavior: Literal[
        "create_prorations", "always_invoice", "none", "default"
    ] | None = None
    invoice_preview: bool | None = None
    seat_updates: Literal["immediate", "batched"] | None = None
    trials: bool | None = None
    trial_missing_payment_method: Literal[
        "cancel", "pause", "create_invoice", "default"
    ] | None = None
    portal: bool | None = None
    portal_events_handled: bool | None = None
    handles_incomplete_expired: bool | None = None
    off_session_recovery: bool | None = None


class Metering(_Strict):
    identifier: Literal["deterministic", "random", "none"] | None = None
    aggregation: Literal["sum", "count", "last"] | None = None
    sends: Literal["deltas", "occurrences", "totals", "gauge"] | None = None
    max_delay_minutes: int | None = None
    late_usage: Literal["next_invoice_adjustment", "drop", "none"] | None = None
    validates_timestamps: bool | None = None
    reconciles_usage: bool | None = None
    peak_events_per_second: float | None = None
    batching: bool | None = None


class Catalog(_Strict):
    price_reference: Literal["lookup_key", "price_id"] | None = None
    lookup_active_only: bool | None = None
    as_code: bool | None = None


class Payments(_Strict):
    methods: list[str] = Field(default_factory=list)
    checkout_mode: Literal["payment", "subscription", "setup"] | None = None
    fulfilment_trigger: Literal[
        "success_url", "checkout_session_completed", "payment_intent_succeeded", "webhooks"
    ] | None = None
    checks_payment_status: bool | None = None
    async_payment_events: bool | None = None
    handles_delayed_failure: bool | None = None
    voucher_expiry_handled: bool | None = None
    cash_balance_reconciled: bool | None = None
    refund_failure_handled: bool | None = None
    disputes_handled: bool | None = None
    dispute_queue: bool | None = None
    amount_conversion: Literal["currency_table", "times_100"] | None = None


class Connect(_Strict):
    charge_type: Literal["direct", "destination", "separate_charges_and_transfers"] | None = None
    charge_type_documented: bool | None = None
    stripe_account_header: Literal["all_calls", "some_calls", "none"] | None = None
    stores_account_id: bool | None = None
    routes_by_event_account: bool | None = None


class Tax(_Strict):
    engine: Literal["stripe_tax", "own", "both", "none"] | None = None
    collects_address: bool | None = None


class Invoicing(_Strict):
    net_terms: bool | None = None
    collection_method: Literal["send_invoice", "charge_automatically"] | None = None
    days_until_due: int | None = None
    adjustments: Literal["credit_notes", "refunds", "edits"] | None = None


class Reporting(_Strict):
    source: Literal["balance_transactions", "report_runs", "charges", "none"] | None = None
    payouts: Literal["automatic", "manual"] | None = None
    payout_reconciliation: bool | None = None


class Migration(_Strict):
    source: str
    parallel_run: bool | None = None
    billing_cycle_anchor: Literal["legacy_period_end", "now"] | None = None
    legacy_cancel: Literal["same_step", "later", "none"] | None = None
    double_billing_guard: bool | None = None
    idempotent_import: bool | None = None


class Backfill(_Strict):
    rate_limit_rps: float | None = None
    checkpoints: bool | None = None
    handles_429: bool | None = None


class Volumes(_Strict):
    customers: int | None = None
    subscriptions: int | None = None
    events_per_day: int | None = None
    peak_api_rps: float | None = None
    meter_events_per_second: float | None = None


class Architecture(_Strict):
    name: str
    description: str = ""
    products: list[str] = Field(default_factory=list)
    components: list[Component] = Field(default_factory=list)
    data_stores: list[DataStore] = Field(default_factory=list)
    stripe: StripeUse = Field(default_factory=StripeUse)
    webhooks: Webhooks = Field(default_factory=Webhooks)
    billing: Billing | None = None
    metering: Metering | None = None
    catalog: Catalog | None = None
    payments: Payments | None = None
    connect: Connect | None = None
    tax: Tax | None = None
    invoicing: Invoicing | None = None
    reporting: Reporting | None = None
    migration: Migration | None = None
    backfill: Backfill | None = None
    volumes: Volumes = Field(default_factory=Volumes)
    regions: list[str] = Field(default_factory=list)
    currencies: list[str] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list)

    @property
    def subscribed_events(self) -> set[str]:
        return {e for ep in self.webhooks.endpoints for e in ep.events}


class MapEndpoint(BaseModel):
    url: str
    enabled_events: list[str] = Field(default_factory=list)
    api_version: str | None = None
    connect: bool = False


class IntegrationMap(BaseModel):
    """The part of an engagement's integration map (tools/map) the review reads."""

    model_config = ConfigDict(extra="ignore")
    engagement: str | None = None
    livemode: bool | None = None
    api_version: str | None = None
    webhook_endpoints: list[MapEndpoint] = Field(default_factory=list)
    objects: dict[str, int] = Field(default_factory=dict, description="object type → count")
    connect_accounts: int = 0


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc}", hint="check the path") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}", hint="fix the YAML syntax") from None


def _problems(exc: ValidationError) -> tuple[list[str], list[str]]:
    unknown, other = [], []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            unknown.append(where)
        else:
            other.append(f"{where}: {err['msg']}")
    return unknown, other


def parse_architecture(data: Any, *, source: str = "<architecture>") -> Architecture:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level",
                          hint="see knowledge/examples/*.yaml")
    try:
        return Architecture.model_validate(data)
    except ValidationError as exc:
        unknown, other = _problems(exc)
        parts = []
        if unknown:
            parts.append(f"unknown keys: {', '.join(unknown)}")
        if other:
            parts.append("; ".join(other))
        raise ConfigError(f"{source}: invalid architecture description: {' | '.join(parts)}",
                          hint="compare with knowledge/examples/*.yaml and "
                               "knowledge/review/model.py for the allowed keys") from None


def load_architecture(path: Path) -> Architecture:
    return parse_architecture(_read_yaml(path), source=str(path))


def load_integration_map(path: Path) -> IntegrationMap:
    data = _read_yaml(path)  # JSON is YAML
    try:
        return IntegrationMap.model_validate(data)
    except ValidationError as exc:
        _, other = _problems(exc)
        raise ConfigError(f"{path}: invalid integration map: {'; '.join(other)}",
                          hint="export it with the integration-map tool (JSON)") from None


def merge_integration_map(arch: Architecture | None, imap: IntegrationMap) -> Architecture:
    """Facts from the live map fill what the description leaves out; the description wins."""
    arch = arch or Architecture(name=imap.engagement or "integration map")
    update: dict[str, Any] = {}
    if not arch.webhooks.endpoints and imap.webhook_endpoints:
        endpoints = [WebhookEndpoint(url=e.url, events=e.enabled_events,
                                     api_version=e.api_version, connect=e.connect)
                     for e in imap.webhook_endpoints]
        update["webhooks"] = arch.webhooks.model_copy(update={"endpoints": endpoints})
    stripe_update: dict[str, Any] = {}
    if imap.objects:
        stripe_update["objects"] = sorted(set(arch.stripe.objects) | set(imap.objects))
    if imap.api_version and not arch.stripe.api_version:
        stripe_update["api_version"] = imap.api_version
    if stripe_update:
        update["stripe"] = arch.stripe.model_copy(update=stripe_update)
    return arch.model_copy(update=update)
