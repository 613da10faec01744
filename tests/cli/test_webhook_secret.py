from __future__ import annotations

from pathlib import Path

from tests.cli.test_bad_input import TEST_KEY, fde


def test_webhook_secret_is_stored_encrypted_and_never_printed(_isolated_env: Path):
    added = fde("engagement", "add", "acme", "--no-verify",
                env={"FDE_ENGAGEMENT_STRIPE_KEY": TEST_KEY})
    assert added.returncode == 0, added.stderr
    secret = "whsec_" + "S1gn1ngS3cr3t" * 3
    stored = fde("engagement", "webhook-secret", "acme", env={"FDE_WEBHOOK_SECRET": secret})
    assert stored.returncode == 0, stored.stderr
    assert secret not in stored.stdout + stored.stderr
    assert f"whsec_…{secret[-4:]}" in stored.stdout
    assert secret.encode() not in (_isolated_env / "fde.db").read_bytes()
    bad = fde("engagement", "webhook-secret", "acme", env={"FDE_WEBHOOK_SECRET": "nope"})
    assert bad.returncode != 0 and "whsec_" in bad.stderr and "fix:" in bad.stderr
    unknown = fde("engagement", "webhook-secret", "ghost", env={"FDE_WEBHOOK_SECRET": secret})
    assert unknown.returncode != 0 and "ghost" in unknown.stderr
