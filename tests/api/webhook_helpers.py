"""Shared by the webhook receiver tests: an engagement with a signing secret, and signing."""

from __future__ import annotations

import json
import time
from typing import Any

from pydantic import SecretStr
from stripe import WebhookSignature

from core import engagements
from core.engagements import EngagementCreate
from core.secrets import secret_box
from core.settings import SANDBOX_API_KEY, Settings
from core.storage import Database
from tools.webhooks.secrets import add_secret

SECRET = "whsec_test_receiver_secret_0001"
OTHER = "whsec_test_receiver_secret_0002"


def add_engagement(db: Database, settings: Settings, name: str = "acme",
                   secrets: tuple[str, ...] = (SECRET,)) -> None:
    with db.session() as session:
        engagements.add(session, secret_box(settings), EngagementCreate(
            name=name, stripe_key=SecretStr(SANDBOX_API_KEY)), actor="test")
        for s in secrets:
            add_secret(session, secret_box(settings), name, s, actor="test")


def event(event_id: str = "evt_1", etype: str = "customer.created", **extra: Any) -> bytes:
    body = {"id": event_id, "object": "event", "type": etype, "created": int(time.time()),
            "livemode": False, "api_version": "2026-10-28.endive",
            "data": {"object": {"id": "cus_1", "object": "customer"}}, **extra}
    return json.dumps(body, indent=2).encode()


def sign(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> str:
    return WebhookSignature.generate_signature_header(
        body.decode(), secret, timestamp=timestamp or int(time.time()))
