"""What changed between two map snapshots: endpoints disabled or removed, event types
dropped from an endpoint, API versions changed, payment methods that appeared with no
handler for their delayed outcome."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from tools.map.model import IntegrationMap
from tools.stripe.payment_methods import methods_where

__all__ = ["DriftItem", "drift"]

Kind = Literal["endpoint_disabled", "endpoint_enabled", "endpoint_removed", "endpoint_added",
               "event_type_dropped", "event_type_added", "api_version_changed",
               "payment_method_added", "payment_method_without_handler"]

# delayed methods settle later: the app needs these events to know the outcome
_DELAYED = methods_where(delayed=True)
_OUTCOME_EVENTS = {"payment_intent.succeeded", "payment_intent.payment_failed",
                   "checkout.session.async_payment_succeeded",
                   "checkout.session.async_payment_failed"}


class DriftItem(BaseModel):
    kind: Kind
    subject: str
    before: str | list[str] | None = None
    after: str | list[str] | None = None
    summary: str


def _events(m: IntegrationMap, nid: str) -> set[str]:
    node = m.node(nid)
    value = node.attrs.get("enabled_events") if node else None
    return set(value) if isinstance(value, list) else set()


def drift(old: IntegrationMap, new: IntegrationMap) -> list[DriftItem]:
    out: list[DriftItem] = []
    old_eps = {n.id: n for n in old.nodes if n.kind == "endpoint"}
    new_eps = {n.id: n for n in new.nodes if n.kind == "endpoint"}
    for nid in sorted(old_eps.keys() - new_eps.keys()):
        out.append(DriftItem(kind="endpoint_removed", subject=nid,
                             summary=f"{nid} no longer exists"))
    for nid in sorted(new_eps.keys() - old_eps.keys()):
        out.append(DriftItem(kind="endpoint_added", subject=nid, summary=f"{nid} was added"))
    for nid in sorted(old_eps.keys() & new_eps.keys()):
        a, b = old_eps[nid].attrs, new_eps[nid].attrs
        if a.get("status") != b.get("status"):
            kind = "endpoint_disabled" if b.get("status") == "disabled" else "endpoint_enabled"
            out.append(DriftItem(kind=kind, subject=nid, before=str(a.get("status")),
                                 after=str(b.get("status")),
                                 summary=f"{nid} went {a.get('status')} → {b.get('status')}"))
        before, after = _events(old, nid), _events(new, nid)
        if "*" not in after:
            for etype in sorted(before - after - {"*"}) if "*" not in before else []:
                out.append(DriftItem(kind="event_type_dropped", subject=f"{nid}:{etype}",
                                     before=etype, summary=f"{nid} no longer receives {etype}"))
            if "*" in before:
                out.append(DriftItem(kind="event_type_dropped", subject=f"{nid}:*",
                                     before="*", after=sorted(after),
                                     summary=f"{nid} narrowed from all events to "
                                             f"{len(after)} types"))
        for etype in sorted(after - before - {"*"}) if "*" not in before else []:
            out.append(DriftItem(kind="event_type_added", subject=f"{nid}:{etype}",
                                 after=etype, summary=f"{nid} now receives {etype}"))
        if a.get("api_version") != b.get("api_version"):
            out.append(DriftItem(kind="api_version_changed", subject=nid,
                                 before=_s(a.get("api_version")), after=_s(b.get("api_version")),
                                 summary=f"{nid} API version {a.get('api_version')} → "
                                         f"{b.get('api_version')}"))
    handled = {n.label for n in new.nodes if n.kind == "event_type"
               and any(e.source == n.id and e.kind == "handled_by" for e in new.edges)}
    old_pms = {n.label for n in old.nodes if n.kind == "payment_method"}
    for n in new.nodes:
        if n.kind != "payment_method" or n.label in old_pms:
            continue
        if n.label in _DELAYED and not (handled & _OUTCOME_EVENTS):
            out.append(DriftItem(kind="payment_method_without_handler", subject=n.id,
                                 after=n.label,
                                 summary=f"{n.label} appeared; no handler declared for its "
                                         "delayed outcome events"))
        else:
            out.append(DriftItem(kind="payment_method_added", subject=n.id, after=n.label,
                                 summary=f"payment method {n.label} now in use"))
    return out


def _s(value: object) -> str | None:
    return None if value is None else str(value)
