"""`Stripe-Signature` verification over the raw request bytes, and the event envelope.

Verification is the SDK's (`stripe.WebhookSignature.verify_header`): HMAC-SHA256 over
``"{t}.{raw body}"``, constant-time comparison, any of several ``v1`` values accepted (Stripe
signs with both secrets while one is being rolled). We add: several stored secrets per
engagement (our side of a rotation), a timestamp tolerance (300 s by default) in both
directions — the SDK rejects only old timestamps, and a header dated in the future would
outlive any tolerance — and typed errors the receiver turns into 400s.
"""

from __future__ import annotations

import json
import time
from typing import Any

import stripe
from pydantic import BaseModel, ConfigDict, ValidationError

from core.errors import FdeError

__all__ = ["DEFAULT_TOLERANCE", "NO_MATCH", "BadSignature", "EventEnvelope", "MalformedEvent",
           "parse_event", "verify_signature"]

DEFAULT_TOLERANCE = 300


class BadSignature(FdeError):
    """The Stripe-Signature header is missing, malformed, stale, or matches no secret."""

    default_hint = ("check the engagement's webhook signing secret (`fde engagement "
                    "webhook-secret NAME`), and that the body reaches us unmodified")


class MalformedEvent(FdeError):
    """The (verified) body is not a Stripe event."""


class EventEnvelope(BaseModel):
    """What the receiver needs from an event; the raw body is stored beside it."""

    model_config = ConfigDict(extra="ignore")

    id: str
    type: str
    created: int
    object: str = "event"
    account: str | None = None
    livemode: bool | None = None
    api_version: str | None = None
    object_id: str | None = None
    object_type: str | None = None


NO_MATCH = ("signature verification failed: no v1 signature matches a signing secret of this "
            "endpoint")
"""The one answer to a signature that is not genuine. An unknown engagement and one without a
secret answer exactly this too, so the receiver does not tell an unauthenticated caller which
engagement names exist."""


def verify_signature(payload: bytes, header: str | None, secrets: list[str], *,
                     tolerance: int = DEFAULT_TOLERANCE, now: float | None = None) -> None:
    """Raises `BadSignature` unless `header` signs `payload` with one of `secrets` at a time
    within `tolerance` seconds of now, in the past or in the future."""
    if not header:
        raise BadSignature("missing Stripe-Signature header")
    # The header's shape is checked before any secret is looked at, so a malformed header is
    # answered the same way whatever the engagement.
    ts = _timestamp(header)
    if not any(part.strip().startswith("v1=") for part in header.split(",")):
        raise BadSignature("the Stripe-Signature header has no v1= signature")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise BadSignature("the body is not UTF-8") from None
    if not any(_matches(text, header, secret) for secret in secrets):
        raise BadSignature(NO_MATCH)
    # Only a genuine signature gets a precise reason: a stale or future timestamp.
    clock = time.time() if now is None else now
    if tolerance and ts < clock - tolerance:
        raise BadSignature(f"timestamp {ts} is {clock - ts:.0f} s in the past, outside the "
                           f"{tolerance} s tolerance (a replayed or delayed delivery)")
    if tolerance and ts > clock + tolerance:
        raise BadSignature(f"timestamp {ts} is {ts - clock:.0f} s in the future, outside the "
                           f"{tolerance} s tolerance (the sender's clock is ahead, or the "
                           "header was dated ahead to outlive the tolerance)",
                           hint="check that both sides' clocks are synchronised (NTP)")


def _matches(text: str, header: str, secret: str) -> bool:
    # The SDK checks the HMAC (constant time, any v1); the tolerance is checked by the caller
    # against an injectable clock, in both directions (the SDK only looks at the past).
    try:
        stripe.WebhookSignature.verify_header(text, header, secret, tolerance=None)
    except stripe.SignatureVerificationError:
        return False
    return True


def _timestamp(header: str) -> int:
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                return int(value)
            except ValueError:
                break
    raise BadSignature("the Stripe-Signature header has no valid t= timestamp")


def parse_event(payload: bytes) -> EventEnvelope:
    """The envelope of a verified body; `MalformedEvent` when it is not a Stripe event."""
    try:
        raw: Any = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedEvent(f"the body is not JSON: {exc}") from None
    if not isinstance(raw, dict) or raw.get("object", "event") != "event":
        raise MalformedEvent("the body is not a Stripe event object")
    data = raw.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    try:
        return EventEnvelope.model_validate({
            **raw,
            "object_id": obj.get("id") if isinstance(obj, dict) else None,
            "object_type": obj.get("object") if isinstance(obj, dict) else None,
        })
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise MalformedEvent(f"the body is not a Stripe event: {problems}") from None
