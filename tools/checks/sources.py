"""Where a `CheckContext` comes from, outside tests: the recon snapshot (Stripe objects and
events, each with its ``pending_webhooks``, refreshed from the Events API's
``delivery_success=false`` list), the user system through the recon adapter (canonical rows
per mapping entity, the processed-event log among them), the receiver's inbox, and the
engagement's integration profile. Only Stripe's public API and the company's own data: see
tools/checks/delivery.py and ADR 0005.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy.orm import Session

from core.errors import ConfigError, StripeError
from tools.checks.context import CheckContext, Delivery, Obj, Profile
from tools.checks.delivery import OUTCOMES
from tools.checks.model import Input
from tools.recon.adapter import UserSystem
from tools.recon.errors import UserSystemUnreachable
from tools.recon.sync.connect import SnapshotSet
from tools.recon.sync.store import Snapshot
from tools.webhooks import inbox

__all__ = ["EVENT_RETENTION_SECONDS", "build_context", "deliveries_from_inbox", "load_local",
           "load_profile", "objects_from_snapshot", "refresh_pending"]

EVENT_RETENTION_SECONDS = 30 * 86_400  # the Events API lists the last 30 days


def objects_from_snapshot(snapshot: Snapshot | SnapshotSet
                          ) -> tuple[dict[str, list[Obj]], list[Obj]]:
    """(objects by type, events) from a recon snapshot; `_account` None = platform."""
    objects: dict[str, list[Obj]] = {}
    events: list[Obj] = []
    for object_type in snapshot.types():
        frame = snapshot.frame(object_type)
        out = []
        for account, data in zip(frame["account"].to_list(), frame["data"].to_list(),
                                 strict=True):
            obj = json.loads(data)
            obj.setdefault("_account", account)
            out.append(obj)
        if object_type == "event":
            events = sorted(out, key=lambda e: e.get("created") or 0)
        else:
            objects[object_type] = out
    return objects, events


def load_local(user: UserSystem) -> dict[str, list[Obj]]:
    """Canonical rows per mapping entity (refs resolved to Stripe ids); the processed-event
    log's outcomes in canonical words."""
    out = {name: frame.drop("_pk", strict=False).to_dicts()
           for name, frame in user.load().items()}
    found = user.mapping.event_log()  # v2 `role: event_log`, v1 the entity processed_event
    if found is None or found[0] not in out:
        return out
    name, entity = found
    out["processed_event"] = out.pop(name)  # the detectors' canonical name for the log
    spec = entity.fields.get("outcome")
    if spec is not None:
        words = canonical_words(spec.values)
        for row in out["processed_event"]:
            row["outcome"] = words.get(row.get("outcome"), row.get("outcome"))
    return out


def vocabulary(mapping: Any) -> dict[tuple[str, str], dict[str, frozenset[str]]]:
    """(entity, field) -> local word -> canonical words, from a v2 mapping's `values`
    (v1 `values` only document a column and translate nothing)."""
    if getattr(mapping, "version", 1) < 2:
        return {}
    out: dict[tuple[str, str], dict[str, frozenset[str]]] = {}
    for name, entity in mapping.entities.items():
        for fname, spec in entity.fields.items():
            if spec.values:
                out[(name, fname)] = {
                    str(local): frozenset([words] if isinstance(words, str) else words)
                    for local, words in spec.values.items()}
    return out


def canonical_words(values: dict[str, Any] | None) -> dict[str, str]:
    """The user's word -> a canonical outcome, from the field's `values` (v2: local word ->
    canonical word or words); a v1 description ("applied: written") translates nothing."""
    out: dict[str, str] = {}
    for local, canonical in (values or {}).items():
        first = canonical[0] if isinstance(canonical, list) and canonical else canonical
        if isinstance(first, str) and first in OUTCOMES:
            out[str(local)] = first
    return out


def refresh_pending(gateway: Any, events: list[Obj], *, now: int) -> int:
    """Bring each synced event's ``pending_webhooks`` up to date: the events cursor stores an
    event once, when it is new, so its count is the one at sync time. One list of what is
    still unacknowledged (``delivery_success=false``) over the Events API's 30 days; an event
    in that window and not in the list has been acknowledged everywhere. Returns how many
    events are still pending."""
    since = now - EVENT_RETENTION_SECONDS
    open_: dict[str, int] = {}
    for ev in gateway.list_all("/v1/events", {"delivery_success": "false",
                                              "created": {"gte": since}}):
        data = ev if isinstance(ev, dict) else ev.to_dict()
        open_[data["id"]] = int(data.get("pending_webhooks") or 0)
    for ev in events:
        # the gateway lists one account's events: a connected account's keep their count
        if ev.get("_account") is None and (ev.get("created") or 0) >= since:
            ev["pending_webhooks"] = open_.get(ev["id"], 0)
    return len(open_)


def deliveries_from_inbox(session: Session, engagement: str) -> list[Delivery]:
    """What our own receiver got: each stored event is one 2xx delivery (duplicates too)."""
    out = []
    for ev in inbox.list_events(session, engagement):
        at = int(ev.received_at.timestamp())
        out.append(Delivery(event_id=ev.event_id, endpoint_id="fde-receiver", account=ev.account,
                            status=200, at=at))
        out += [Delivery(event_id=ev.event_id, endpoint_id="fde-receiver", account=ev.account,
                         status=200, attempt=i + 2, at=int(ev.last_received_at.timestamp()))
                for i in range(ev.duplicates)]
    return out


def load_profile(path: str | Path | None) -> Profile:
    """integration.yaml: ``api_version``, ``expected_livemode``, ``handlers`` (type → name)."""
    if path is None or not Path(path).exists():
        return Profile()
    try:
        raw: Any = yaml.safe_load(Path(path).read_text()) or {}
        return Profile.model_validate(raw)
    except yaml.YAMLError as exc:
        raise ConfigError(f"integration profile {path} is not YAML: {exc}",
                          hint="keys: api_version, expected_livemode, handlers") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"integration profile {path} is invalid: {problems}",
                          hint="keys: api_version, expected_livemode, handlers "
                               "(event type -> handler name)") from None


def build_context(*, snapshot: Snapshot | SnapshotSet | None, user: UserSystem | None,
                  deliveries: list[Delivery] | None, profile: Profile,
                  engagement: str | None = None, now: int | None = None,
                  warnings: list[str] | None = None, exported: bool = False,
                  pending_gateway: Any = None) -> CheckContext:
    """One context per run; inputs that cannot be read are left out (their checks say
    "not computable"). `deliveries`: our receiver's (and, with `exported`, an imported
    attempt log of the user's endpoint); `pending_gateway` refreshes pending_webhooks."""
    available: set[Input] = set()
    objects: dict[str, list[Obj]] = {}
    events: list[Obj] = []
    now = now or int(time.time())
    if snapshot is not None and snapshot.types():
        objects, events = objects_from_snapshot(snapshot)
        available |= {"stripe", "events", "pending"} if events else {"stripe"}
        if events and pending_gateway is not None:
            try:
                refresh_pending(pending_gateway, events, now=now)
            except StripeError as exc:  # keep the counts the sync stored, and say so
                if warnings is not None:
                    warnings.append(f"pending_webhooks not refreshed ({exc}); using the "
                                    "counts from when each event was synced")
    local: dict[str, list[Obj]] = {}
    vocab: dict[tuple[str, str], dict[str, frozenset[str]]] = {}
    if user is not None:
        vocab = vocabulary(user.mapping)
        try:
            local = load_local(user)
            available.add("local")
            if "processed_event" in local:  # mapped: an empty log says nothing was handled
                available.add("processed")
        except UserSystemUnreachable as exc:
            if warnings is not None:
                warnings.append(str(exc))
    if exported:
        available.add("export")
    return CheckContext(now=now, profile=profile, objects=objects,
                        events=events, deliveries=deliveries or [], local=local,
                        engagement=engagement, vocab=vocab, available=frozenset(available))
