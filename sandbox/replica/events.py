"""Events in Stripe's shape, and which webhook endpoints each one goes to.

An event is ``{id, object: "event", api_version, created, data: {object,
previous_attributes?}, livemode, pending_webhooks, request: {id, idempotency_key}, type}``
plus ``account`` when it happened in a connected account. ``pending_webhooks`` counts the
endpoints still to be served; the dispatcher lowers it as deliveries succeed.

Endpoint matching: endpoints of the event's own account, plus platform endpoints created
with ``connect=true`` for events of connected accounts; ``enabled_events`` may hold ``*``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.replica.store import Store

if TYPE_CHECKING:
    from sandbox.replica.context import Ctx

Obj = dict[str, Any]


def endpoint_wants(endpoint: Obj, event_type: str) -> bool:
    if endpoint.get("status") != "enabled":
        return False
    enabled = endpoint.get("enabled_events") or []
    return "*" in enabled or event_type in enabled


def endpoints_for(
    store: Store, platform: str, account: str, event_type: str
) -> list[tuple[str, Obj]]:
    """(account the endpoint lives in, endpoint) for every endpoint that gets the event."""
    found = [
        (account, e)
        for e in store.iter_type(account, "webhook_endpoint")
        if endpoint_wants(e, event_type)
    ]
    if account != platform:
        found += [
            (platform, e)
            for e in store.iter_type(platform, "webhook_endpoint")
            if e.get("_connect") and endpoint_wants(e, event_type)
        ]
    return found


class EventFactory:
    def __init__(self, store: Store, platform: str) -> None:
        self.store = store
        self.platform = platform

    def build(self, ctx: Ctx, event_type: str, obj: Obj, previous: Obj | None) -> Obj:
        data: Obj = {"object": obj}
        if previous is not None:
            data["previous_attributes"] = previous
        event: Obj = {
            "id": ctx.new_id("event"),
            "object": "event",
            "api_version": ctx.engine.config.api_version,  # account default, not the caller's
            "created": ctx.now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": len(endpoints_for(self.store, self.platform, ctx.account,
                                                  event_type)),
            "request": {"id": ctx.request_id, "idempotency_key": ctx.idempotency_key},
            "type": event_type,
        }
        if ctx.account != self.platform:
            event["account"] = ctx.account
        return event
