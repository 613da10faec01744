"""The webhook receiver's room: signature verification, the durable inbox (dedupe by event
id), per-engagement signing secrets (encrypted), and the processor that drains the inbox
after the HTTP answer (live map health, incremental checks).

    verify     Stripe-Signature over the raw body (several v1 during rotation, tolerance)
    tables     SQLAlchemy Core descriptions of migration 0003's webhook_* tables
    secrets    signing secrets per engagement, Fernet-encrypted like Stripe keys
    inbox      store / dedupe / list / stats of received events
    processor  drain stored events (the stored row is the source of truth)
"""

from tools.webhooks.inbox import InboxEvent, StoreOutcome, store_event
from tools.webhooks.verify import (
    DEFAULT_TOLERANCE,
    BadSignature,
    EventEnvelope,
    MalformedEvent,
    parse_event,
    verify_signature,
)

__all__ = [
    "DEFAULT_TOLERANCE", "BadSignature", "EventEnvelope", "InboxEvent", "MalformedEvent",
    "StoreOutcome", "parse_event", "store_event", "verify_signature",
]
