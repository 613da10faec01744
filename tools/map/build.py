"""Build the integration map from a `CheckContext` (the same inputs the checks read: Stripe
objects and events, the delivery log, the user's rows and declared handlers) plus the
mapping's entity → table list."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from tools.checks.context import CheckContext, Delivery
from tools.checks.delivery import matches
from tools.map.model import Edge, Health, IntegrationMap, Node

__all__ = ["build_map", "health_of"]


def _p95(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3)


def health_of(attempts: list[Delivery], created: dict[str, int]) -> Health:
    ok = [d for d in attempts if d.ok]
    lags = [float(d.at - created[d.event_id]) for d in ok if d.event_id in created]
    errors = [d for d in attempts if not d.ok]
    last_error = max(errors, key=lambda d: d.at) if errors else None
    return Health(
        deliveries=len(attempts), succeeded=len(ok),
        success_rate=round(len(ok) / len(attempts), 4) if attempts else None,
        p95_lag_seconds=_p95(lags), last_seen=max((d.at for d in attempts), default=None),
        last_error=(last_error.error or f"HTTP {last_error.status}") if last_error else None)


def _from_sources(ctx: CheckContext, endpoint: dict, event_type: str) -> list[Delivery]:
    """Without an attempt log, one row per settled event of the type from what a real
    account has: taken when the handler's log has it (at its received time), not
    acknowledged when pending_webhooks says so (tools/checks/delivery.py)."""
    out = []
    for ev in ctx.events:
        if ev.get("type") != event_type or not matches(endpoint, event_type):
            continue
        at = ctx.delivery.received_at(ev["id"])
        if at is not None:
            out.append(Delivery(event_id=ev["id"], endpoint_id=endpoint["id"], status=200,
                                at=at))
        elif ctx.delivery.failed(ev):
            out.append(Delivery(event_id=ev["id"], endpoint_id=endpoint["id"], status=None,
                                error="not acknowledged (pending_webhooks)",
                                at=ev.get("created") or 0))
    return out


def build_map(ctx: CheckContext, *, tables: dict[str, str] | None = None,
              engagement: str | None = None) -> IntegrationMap:
    """`tables`: Stripe object type → the user's table (from the mapping file)."""
    nodes: dict[str, Node] = {}
    edges: dict[str, Edge] = {}

    def node(nid: str, kind: str, label: str, **attrs: object) -> Node:
        if nid not in nodes:
            nodes[nid] = Node(id=nid, kind=kind, label=label, attrs=attrs)  # type: ignore[arg-type]
        return nodes[nid]

    def edge(source: str, target: str, kind: str, health: Health | None = None) -> None:
        e = Edge(source=source, target=target, kind=kind, health=health)
        edges[e.key] = e

    created = {e["id"]: e.get("created") or 0 for e in ctx.events}
    type_of = {e["id"]: e.get("type") for e in ctx.events}
    by_type: dict[tuple[str, str], list[Delivery]] = defaultdict(list)
    for d in ctx.deliveries:
        by_type[(d.endpoint_id or "?", type_of.get(d.event_id) or "?")].append(d)

    for ep in ctx.endpoints:
        eid = f"endpoint:{ep['id']}"
        node(eid, "endpoint", ep.get("url") or ep["id"], status=ep.get("status", "enabled"),
             api_version=ep.get("api_version"),
             enabled_events=sorted(ep.get("enabled_events") or []))
        if ep.get("api_version"):
            node(f"api_version:{ep['api_version']}", "api_version", ep["api_version"])
            edge(eid, f"api_version:{ep['api_version']}", "renders_in")
        wanted = set(ep.get("enabled_events") or [])
        seen_types = {t for (e, t) in by_type if e == ep["id"]}
        if not seen_types:  # no attempt log: the types Stripe sent it, by the events list
            seen_types = {ev.get("type") for ev in ctx.events
                          if ev.get("type") and matches(ep, ev["type"])}
        for etype in sorted((wanted - {"*"}) | seen_types):
            node(f"event:{etype}", "event_type", etype)
            attempts = by_type.get((ep["id"], etype)) or _from_sources(ctx, ep, etype)
            edge(f"event:{etype}", eid, "delivered_to",
                 health_of(attempts, created) if attempts else None)
    for ev in ctx.events:
        if ev.get("api_version"):
            node(f"api_version:{ev['api_version']}", "api_version", ev["api_version"])
    for etype, handler in sorted(ctx.profile.handlers.items()):
        hid = f"handler:{handler}"
        node(hid, "handler", handler)
        node(f"event:{etype}", "event_type", etype)
        edge(f"event:{etype}", hid, "handled_by")
    outcomes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in ctx.rows("processed_event"):
        outcomes[row.get("type") or "?"][row.get("outcome") or "?"] += 1
    for etype, counts in outcomes.items():
        if f"event:{etype}" in nodes:
            nodes[f"event:{etype}"].attrs.update({f"user_{k}": v for k, v in counts.items()})
    for otype, table in sorted((tables or {}).items()):
        node(f"object:{otype}", "stripe_object", otype, count=len(ctx.of(otype)))
        node(f"table:{table}", "table", table)
        edge(f"object:{otype}", f"table:{table}", "stored_in")
    _catalog(ctx, node, edge)
    _payment_methods(ctx, node)
    for acct in ctx.of("account"):
        node(f"account:{acct['id']}", "account", acct["id"],
             country=acct.get("country"), charges_enabled=acct.get("charges_enabled"))
    return IntegrationMap(engagement=engagement, built_at=datetime.now(UTC),
                          nodes=sorted(nodes.values(), key=lambda n: n.id),
                          edges=sorted(edges.values(), key=lambda e: e.key))


def _catalog(ctx: CheckContext, node, edge) -> None:  # noqa: ANN001 - local closures
    used: set[str] = set()
    for sub in ctx.of("subscription"):
        for item in (sub.get("items") or {}).get("data") or []:
            price = item.get("price") or {}
            if price.get("id"):
                used.add(price["id"])
    for price in ctx.of("price"):
        if price["id"] not in used:
            continue
        product = price.get("product")
        product = product.get("id") if isinstance(product, dict) else product
        node(f"price:{price['id']}", "price", price.get("lookup_key") or price["id"],
             currency=price.get("currency"), active=price.get("active"))
        if product:
            prod = ctx.get(product) or {}
            node(f"product:{product}", "product", prod.get("name") or product)
            edge(f"price:{price['id']}", f"product:{product}", "prices")


def _payment_methods(ctx: CheckContext, node) -> None:  # noqa: ANN001
    seen: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for ch in ctx.of("charge"):
        details = ch.get("payment_method_details") or {}
        kind = details.get("type")
        if not kind:
            continue
        country = ((ch.get("billing_details") or {}).get("address") or {}).get("country")
        seen[kind]["currencies"].add(str(ch.get("currency") or "").lower())
        if country:
            seen[kind]["countries"].add(country)
    for kind, attrs in sorted(seen.items()):
        node(f"pm:{kind}", "payment_method", kind, currencies=sorted(attrs["currencies"]),
             countries=sorted(attrs["countries"]))
