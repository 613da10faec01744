"""`get_object`: any object by id, secrets hidden before display."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import UnknownObjectPrefix
from tools.stripe.inspect import REDACTED, get_object, redact_object


def test_webhook_endpoint_secret_is_hidden(scripted: Any, reply: Any, gateway_factory: Any):
    endpoint = {
        "id": "we_123",
        "object": "webhook_endpoint",
        "livemode": False,
        "url": "https://example.com/hook",
        "secret": "whsec_abcdefghijklmnopqrstuvwxyz012345",
        "enabled_events": ["invoice.paid"],
    }
    view = get_object(gateway_factory(scripted(reply.ok(endpoint))), "we_123")
    assert (view.id, view.type, view.livemode) == ("we_123", "webhook_endpoint", False)
    assert view.data["secret"] == REDACTED
    assert view.data["url"] == "https://example.com/hook"
    assert view.redacted == ["secret"]
    assert "whsec_abcdefghij" not in view.model_dump_json()


def test_client_secrets_and_pasted_keys_are_hidden_anywhere() -> None:
    data = {
        "id": "pi_1",
        "object": "payment_intent",
        "client_secret": "pi_1_secret_abcdef",
        "metadata": {"note": "ops key sk_live_abcdefghijklmnop1234 do not share", "n": "1"},
        "latest_charge": {"id": "ch_1", "payment_method_details": {"card": {"last4": "4242"}}},
        "next_action": {"use_stripe_sdk": {"ephemeral_key_secret": "ek_test_zzzz"}},
        "items": [{"description": "ref pi_9_secret_qqqq"}],
        "empty_secret": None,
    }
    clean, hidden = redact_object(data)
    assert clean["client_secret"] == REDACTED
    assert clean["metadata"]["note"] == "ops key sk_live_…1234 do not share"
    assert clean["next_action"]["use_stripe_sdk"]["ephemeral_key_secret"] == REDACTED
    assert clean["items"][0]["description"] == "ref pi_9_secret_…"
    assert clean["latest_charge"] == data["latest_charge"]
    assert clean["empty_secret"] is None  # nothing to hide, nothing reported
    assert sorted(hidden) == sorted(
        [
            "client_secret",
            "metadata.note",
            "next_action.use_stripe_sdk.ephemeral_key_secret",
            "items.0.description",
        ]
    )
    assert data["client_secret"] == "pi_1_secret_abcdef"  # the input is not modified


def test_type_falls_back_to_the_prefix_table(scripted: Any, reply: Any, gateway_factory: Any):
    view = get_object(gateway_factory(scripted(reply.ok({"id": "cus_1"}))), "cus_1")
    assert view.type == "customer" and view.livemode is None and view.redacted == []


def test_unknown_prefix(scripted: Any, gateway_factory: Any) -> None:
    with pytest.raises(UnknownObjectPrefix, match="foo_1"):
        get_object(gateway_factory(scripted()), "foo_1")
