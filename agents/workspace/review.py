"""Architecture review in the workspace: the engagement's latest integration map (tools/map)
becomes the review's input, the review graph (agents/review) runs on it, and each violated
checklist item becomes a workspace review item tracked to resolution.

The review graph reads an architecture description file, so the map-derived description is
written to a temporary YAML file and goes through the same strict loader as `fde review`."""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from agents.review.graph import build_review_graph
from agents.review.run import review_tools, run_review
from agents.review.state import ReviewDeps
from core import engagements
from core.errors import NotFoundError
from core.storage import Database
from knowledge.review.model import IntegrationMap as ReviewMap
from knowledge.review.model import MapEndpoint, merge_integration_map
from tools.map.model import IntegrationMap
from tools.map.store import latest
from tools.registry import default_registry
from tools.workspace.models import ReviewItem, ReviewRun, ReviewViolation
from tools.workspace.reviews import record_review

__all__ = ["WorkspaceReview", "review_engagement", "review_input"]

_COUNTED_KINDS = {"product": "product", "price": "price", "account": "account"}


class WorkspaceReview(BaseModel):
    run: ReviewRun
    items: list[ReviewItem]
    related: dict[str, list[dict[str, Any]]]


def review_input(m: IntegrationMap) -> ReviewMap:
    """The facts of the live map the review reads: enabled endpoints with their events and
    API version, object types in use with counts, Connect accounts, and the account's API
    version — the one version events carry that no endpoint is pinned to (none if
    ambiguous: a guess would fabricate a version-drift violation)."""
    endpoints = []
    pinned: set[str] = set()
    for n in m.nodes:
        if n.kind != "endpoint" or n.attrs.get("status") == "disabled":
            continue
        events = n.attrs.get("enabled_events")
        version = n.attrs.get("api_version")
        endpoints.append(MapEndpoint(url=n.label,
                                     enabled_events=events if isinstance(events, list) else [],
                                     api_version=version if isinstance(version, str) else None))
    for e in m.edges:
        if e.kind == "renders_in":
            pinned.add(e.target)
    unpinned = [n.label for n in m.nodes if n.kind == "api_version" and n.id not in pinned]
    objects: Counter[str] = Counter()
    for n in m.nodes:
        if n.kind == "stripe_object":
            count = n.attrs.get("count")
            objects[n.label] += count if isinstance(count, int) else 0
        elif n.kind in _COUNTED_KINDS:
            objects[_COUNTED_KINDS[n.kind]] += 1
    return ReviewMap(engagement=m.engagement, webhook_endpoints=endpoints,
                     api_version=unpinned[0] if len(unpinned) == 1 else None,
                     objects=dict(objects), connect_accounts=objects.get("account", 0))


def review_engagement(db: Database, engagement: str, *, patterns: list[Any],
                      knowledge: Any = None, actor: str) -> WorkspaceReview:
    with db.session() as session:
        engagements.get(session, engagement)
        m = latest(session, engagement)
    if m is None:
        raise NotFoundError(f"no integration map stored for {engagement!r} yet",
                            hint=f"build one with `fde map show --engagement {engagement}`")
    arch = merge_integration_map(None, review_input(m))
    deps = ReviewDeps(registry=default_registry(),
                      tools=review_tools(patterns, knowledge, engagement=engagement),
                      patterns=patterns)
    with tempfile.TemporaryDirectory(prefix="fde-review-") as tmp:
        path = Path(tmp) / "architecture.yaml"
        path.write_text(yaml.safe_dump(arch.model_dump(mode="json", exclude_none=True),
                                       sort_keys=False), encoding="utf-8")
        result = run_review(build_review_graph(), deps, path=path)
    violations = [ReviewViolation.model_validate(v.model_dump())
                  for v in result.report.violations]
    with db.session() as session:
        run, items = record_review(session, engagement, violations, map_version=m.version,
                                   markdown=result.markdown, actor=actor)
    return WorkspaceReview(run=run, items=items, related=result.related)
