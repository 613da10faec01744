"""`Stripe-Signature` verification over the raw request bytes, and the event envelope.

Verification is the SDK's (`stripe.WebhookSignature.verify_header`): HMAC-SHA256 over
``"{t}.{raw body}"``, constant-time comparison, any of several ``v1`` values accepted (Stripe
signs with both secrets while one is being rolled), timestamp tolerance 300 s by default.
We add only: several stored secrets per engagement (our side of a rotation), and typed
errors the receiver turns into 400s.
"""

from __future__ import annotations

import json
import time
from typing import Any

import stripe
from pydantic import BaseModel, ConfigDict, ValidationError

from core.errors import FdeError

__all__ = ["DEFAULT_TOLERANCE", "BadSignature", "EventEnvelope", "MalformedEvent",
           "parse_event", "verify_signature"]

DEFAULT_TOLERANCE = 300


class BadSignature(FdeError):
    """The Stripe-Signature header is missing, malformed, stale, or matches no secret."""

    default_hint = ("check the engagement's webhook signing secret (`fde engagement "
                    "webhook-secret`), and that the body reaches us unmodified")


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


def verify_signature(payload: bytes, header: str | None, secrets: list[str], *,
                     tolerance: int = DEFAULT_TOLERANCE, now: float | None = None) -> None:
    """Raises `BadSignature` unless `header` signs `payload` with one of `secrets`."""
    if not header:
        raise BadSignature("missing Stripe-Signature header")
    if not secrets:
        raise BadSignature("no webhook signing secret is configured for this engagement",
                           hint="add one with `fde engagement webhook-secret NAME`")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise BadSignature("the body is not UTF-8") from None
    last = "no signature matched"
    for secret in secrets:
        try:
            _verify(text, header, secret, tolerance, now)
            return
        except stripe.SignatureVerificationError as exc:
            last = str(exc.user_message or exc)
    raise BadSignature(f"signature verification failed: {last}")


def _verify(text: str, header: str, secret: str, tolerance: int, now: float | None) -> None:
    # The SDK checks the HMAC (constant time, any v1); the tolerance is checked here against
    # an injectable clock, so replays and tests can verify "as of" a time without patching.
    stripe.WebhookSignature.verify_header(text, header, secret, tolerance=None)
    if tolerance:
        ts = _timestamp(header)
        if ts < (time.time() if now is None else now) - tolerance:
            raise BadSignature(f"timestamp {ts} is outside the {tolerance} s tolerance "
                               "(a replayed or delayed delivery)")


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
