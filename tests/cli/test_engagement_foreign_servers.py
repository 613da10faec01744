"""`fde engagement add` and `fde recon sync` against Stripe-compatible servers that are not the
replica: localstripe (no GET /v1/account, any sk_ key, no /v1/prices …) and the replica
behind a proxy that answers 403 to GET /v1/account, as Stripe does for a restricted key
without that permission."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_bad_input import engagement_count, fde
from tests.stripe_like import stripe_like_server

SHORT = "sk_test_123"  # the kind of key stripe-mock and emulators take


@pytest.mark.localstripe
def test_short_key_accepted_by_a_server_without_account_endpoint_then_sync(
        localstripe: str, _isolated_env):
    added = fde("engagement", "add", "emu", "--api-base", localstripe,
                env={"FDE_ENGAGEMENT_STRIPE_KEY": SHORT})
    assert added.returncode == 0, added.stdout + added.stderr
    out = " ".join(added.stdout.split())
    assert "verified with GET /v1/balance (GET /v1/account answered 404)" in out
    assert "account unknown" in out
    assert json.loads(fde("engagement", "show", "emu").stdout)["stripe_account_id"] is None

    doctor = fde("doctor", "--engagement", "emu")
    assert "✓ stripe reachable" in doctor.stdout, doctor.stdout
    assert "verified with GET /v1/balance" in " ".join(doctor.stdout.split())
    assert "shorter than Stripe's own keys" in doctor.stdout

    synced = fde("recon", "sync", "-e", "emu")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    text = " ".join(synced.stdout.split())
    assert "INCOMPLETE for" in text and "type(s) the server could not list" in text
    assert "price: not available on this account (GET /v1/prices answered 404)" in text
    assert "webhook_endpoint: not available" in text
    assert "Traceback" not in synced.stdout + synced.stderr
    assert SHORT not in added.stdout + added.stderr + synced.stdout + synced.stderr


@pytest.mark.localstripe
def test_short_key_the_server_refuses_says_it_may_be_cut(localstripe: str, _isolated_env):
    # localstripe answers 401 to every rk_ key
    added = fde("engagement", "add", "emu", "--api-base", localstripe,
                env={"FDE_ENGAGEMENT_STRIPE_KEY": "rk_test_12", "FDE_STRIPE_MAX_RETRIES": "0"})
    assert added.returncode != 0
    assert "401" in added.stderr and "shorter than any key Stripe issues" in added.stderr
    assert "Traceback" not in added.stderr
    assert engagement_count(_isolated_env) == 0


def test_restricted_key_without_account_permission_verifies_with_balance(replica,
                                                                         _isolated_env):
    key = "rk_test_" + "R3str1ct3d" * 3
    with stripe_like_server(replica.url) as server:
        server.forbidden["/v1/account"] = "rak_accounts_kyc_basic_read"
        added = fde("engagement", "add", "acme", "--api-base", server.url,
                    env={"FDE_ENGAGEMENT_STRIPE_KEY": key})
    assert added.returncode == 0, added.stdout + added.stderr
    assert "verified with GET /v1/balance (GET /v1/account answered 403)" in " ".join(
        added.stdout.split())
    assert fde("engagement", "show", "acme").returncode == 0
