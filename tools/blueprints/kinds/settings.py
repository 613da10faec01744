"""Blueprint settings that are not Stripe objects, kept as engagement config in the app DB.

Stripe has no API for dunning end states, retry schedules or entitlement rules (they live
in the Dashboard or in the company's own code), and a Checkout Session configuration is
applied when each session is created. The engagement's config rows are the source of truth
the service and its checks read; a plan diffs them field by field like Stripe objects.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from tools.blueprints import state
from tools.blueprints.context import BlueprintContext
from tools.blueprints.plan import Desired, Observed, PlanItem, Scalar, Write, diff

__all__ = ["flatten", "setting_item"]


def flatten(body: dict[str, Any]) -> dict[str, Scalar]:
    """Top-level fields; lists and mappings as canonical JSON so a diff names the field."""
    return {k: v if isinstance(v, str | int | bool) or v is None
            else json.dumps(v, sort_keys=True, separators=(",", ":"))
            for k, v in body.items()}


def setting_item(ctx: BlueprintContext, session: Session, blueprint: str, key: str,
                 body: dict[str, Any]) -> PlanItem:
    stored = state.read_settings(session, ctx.engagement, key)
    want = Desired(key=f"setting:{key}", object="config", fields=flatten(body))
    have = None
    if key in stored:
        have = Observed(key=want.key, object="config", id=key, fields=flatten(stored[key]))
    action, changes = diff(want, have)
    writes = [Write(target="config", method="put", path=key, params=body)] \
        if action in ("create", "update") else []
    return PlanItem(key=want.key, object="config", action=action, target_id=key,
                    changes=changes, writes=writes)
