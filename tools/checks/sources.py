"""Where a `CheckContext` comes from, outside tests: the recon snapshot (Stripe objects and
events), the user system through the recon adapter (canonical rows per mapping entity), the
delivery log (the replica's ``/_replica/deliveries`` stands in for Stripe's in the sandbox),
the receiver's inbox, and the engagement's integration profile.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import yaml
from pydantic import ValidationError
from sqlalchemy.orm import Session

from core.errors import ConfigError
from tools.checks.context import CheckContext, Delivery, Obj, Profile
from tools.checks.model import Input
from tools.recon.adapter import UserSystem
from tools.recon.errors import UserSystemUnreachable
from tools.recon.sync.store import Snapshot
from tools.webhooks import inbox

__all__ = ["build_context", "deliveries_from_inbox", "deliveries_from_replica", "load_local",
           "load_profile", "objects_from_snapshot"]


def objects_from_snapshot(snapshot: Snapshot) -> tuple[dict[str, list[Obj]], list[Obj]]:
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
    """Canonical rows per mapping entity (refs resolved to Stripe ids)."""
    return {name: frame.drop("_pk", strict=False).to_dicts()
            for name, frame in user.load().items()}


def deliveries_from_replica(base_url: str, *, timeout: float = 30.0) -> list[Delivery]:
    """The sandbox replica's delivery log (Stripe keeps one per endpoint in the Dashboard)."""
    resp = httpx.get(base_url.rstrip("/") + "/_replica/deliveries", timeout=timeout)
    resp.raise_for_status()
    return [Delivery.model_validate(d) for d in resp.json()["data"]]


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


def build_context(*, snapshot: Snapshot | None, user: UserSystem | None,
                  deliveries: list[Delivery] | None, profile: Profile,
                  engagement: str | None = None, now: int | None = None,
                  warnings: list[str] | None = None) -> CheckContext:
    """One context per run; inputs that cannot be read are left out (their checks skip)."""
    available: set[Input] = set()
    objects: dict[str, list[Obj]] = {}
    events: list[Obj] = []
    if snapshot is not None and snapshot.types():
        objects, events = objects_from_snapshot(snapshot)
        available |= {"stripe", "events"} if events else {"stripe"}
    local: dict[str, list[Obj]] = {}
    if user is not None:
        try:
            local = load_local(user)
            available.add("local")
        except UserSystemUnreachable as exc:
            if warnings is not None:
                warnings.append(str(exc))
    if deliveries is not None:
        available.add("deliveries")
    return CheckContext(now=now or int(time.time()), profile=profile, objects=objects,
                        events=events, deliveries=deliveries or [], local=local,
                        engagement=engagement, available=frozenset(available))
