"""The integration map: nodes (Stripe objects in use, endpoints, event types, API versions,
payment methods, Connect accounts, the user's handlers and tables) and edges between them,
each with health where deliveries tell us something."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

__all__ = ["Edge", "Health", "IntegrationMap", "Node", "NodeKind"]

NodeKind = Literal["endpoint", "event_type", "product", "price", "payment_method", "account",
                   "api_version", "handler", "table", "stripe_object", "receiver"]


class Health(BaseModel):
    deliveries: int = 0
    succeeded: int = 0
    success_rate: float | None = None
    p95_lag_seconds: float | None = None
    last_seen: int | None = None
    last_error: str | None = None


class Node(BaseModel):
    id: str
    kind: NodeKind
    label: str
    attrs: dict[str, str | int | float | bool | list[str] | None] = Field(default_factory=dict)
    health: Health | None = None


class Edge(BaseModel):
    source: str
    target: str
    kind: str
    health: Health | None = None

    @property
    def key(self) -> str:
        return f"{self.source}->{self.target}:{self.kind}"


class IntegrationMap(BaseModel):
    engagement: str | None = None
    version: int | None = None
    built_at: datetime | None = None
    nodes: list[Node] = Field(default_factory=list)
    edges: list[Edge] = Field(default_factory=list)

    def node(self, node_id: str) -> Node | None:
        return next((n for n in self.nodes if n.id == node_id), None)

    def edge(self, source: str, target: str) -> Edge | None:
        return next((e for e in self.edges if e.source == source and e.target == target), None)
