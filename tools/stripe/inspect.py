"""Inspection: fetch one Stripe object by id and make it safe to show (`fde stripe get <id>`).

Secrets that Stripe hands back inside objects — a webhook endpoint's signing `secret`,
payment/setup intents' `client_secret`, keys pasted into metadata — are replaced before
the object leaves this module; the view lists where, so nobody wonders why a field is blank.
PII stays: the engineer inspecting needs it; prompts are redacted elsewhere.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from core.ids import stripe_resource_for
from core.redact import SENSITIVE_FIELDS, redact_secrets
from tools.stripe.gateway import StripeGateway

__all__ = ["REDACTED", "StripeObjectView", "get_object", "redact_object"]

REDACTED = "[redacted]"


class StripeObjectView(BaseModel):
    id: str
    type: str
    livemode: bool | None = None
    data: dict[str, Any]
    redacted: list[str] = Field(
        default_factory=list, description="dotted paths whose values were hidden"
    )


def _sensitive(name: str) -> bool:
    lowered = name.lower()
    return lowered in SENSITIVE_FIELDS or lowered.endswith("_secret")


def redact_object(data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A copy of ``data`` with secrets hidden, and the dotted paths that were hidden."""
    hidden: list[str] = []

    def walk(value: Any, path: str) -> Any:
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for key, item in value.items():
                where = f"{path}.{key}" if path else str(key)
                if _sensitive(str(key)) and item not in (None, "", [], {}):
                    out[key] = REDACTED
                    hidden.append(where)
                else:
                    out[key] = walk(item, where)
            return out
        if isinstance(value, list):
            return [walk(item, f"{path}.{i}") for i, item in enumerate(value)]
        if isinstance(value, str):
            clean = redact_secrets(value)
            if clean != value:
                hidden.append(path)
            return clean
        return value

    return walk(data, ""), hidden


def get_object(gateway: StripeGateway, object_id: str) -> StripeObjectView:
    """Fetch any object by id (prefix → resource) and return it redacted."""
    raw = gateway.retrieve(object_id)
    data, hidden = redact_object(raw)
    known = stripe_resource_for(object_id)
    obj_type = raw.get("object") or (known[0] if known else "unknown")
    livemode = raw.get("livemode")
    return StripeObjectView(
        id=str(raw.get("id") or object_id),
        type=str(obj_type),
        livemode=livemode if isinstance(livemode, bool) else None,
        data=data,
        redacted=hidden,
    )
