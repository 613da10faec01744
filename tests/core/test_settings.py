"""Settings: where Stripe is when nobody says (the replica, wherever it was moved)."""

from __future__ import annotations

import pytest

from core.settings import load_settings


def test_the_replica_port_moves_the_default_stripe_base(monkeypatch: pytest.MonkeyPatch):
    assert load_settings().stripe_api_base == "http://127.0.0.1:12111"
    monkeypatch.setenv("FDE_REPLICA_PORT", "23456")
    assert load_settings().stripe_api_base == "http://127.0.0.1:23456"
    monkeypatch.setenv("FDE_REPLICA_HOST", "0.0.0.0")  # bound everywhere, reached on loopback
    assert load_settings().stripe_api_base == "http://127.0.0.1:23456"
    monkeypatch.setenv("FDE_STRIPE_API_BASE", "https://api.stripe.com")  # named: it wins
    assert load_settings().stripe_api_base == "https://api.stripe.com"
    assert load_settings(stripe_api_base="http://localhost:8420").stripe_api_base == (
        "http://localhost:8420")
