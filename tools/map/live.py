"""The live part of the map: event type → fde receiver edges, from the events the receiver
stored and processed (updated as each delivery is processed)."""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel
from sqlalchemy.orm import Session

from tools.map.model import Health
from tools.webhooks import inbox

__all__ = ["EdgeHealth", "live_edges"]


class EdgeHealth(BaseModel):
    source: str
    target: str
    event_type: str
    health: Health
    duplicates: int
    last_event_id: str


def live_edges(session: Session, engagement: str) -> list[EdgeHealth]:
    groups: dict[str, list[inbox.InboxEvent]] = defaultdict(list)
    for ev in inbox.list_events(session, engagement):
        if ev.status != "received":
            groups[ev.type].append(ev)
    out = []
    for etype, evs in sorted(groups.items()):
        lags = sorted(e.lag_seconds for e in evs)
        failed = [e for e in evs if e.status == "failed"]
        last = max(evs, key=lambda e: e.seq)
        out.append(EdgeHealth(
            source=f"event:{etype}", target="receiver:fde", event_type=etype,
            duplicates=sum(e.duplicates for e in evs), last_event_id=last.event_id,
            health=Health(
                deliveries=len(evs) + sum(e.duplicates for e in evs),
                succeeded=len(evs) - len(failed),
                success_rate=round((len(evs) - len(failed)) / len(evs), 4),
                p95_lag_seconds=round(lags[min(len(lags) - 1, int(0.95 * len(lags)))], 3),
                last_seen=int(max(e.last_received_at.timestamp() for e in evs)),
                last_error=failed[-1].error if failed else None)))
    return out
