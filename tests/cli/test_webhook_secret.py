from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_bad_input import TEST_KEY, fde


def test_webhook_secret_is_stored_encrypted_and_never_printed(_isolated_env: Path):
    added = fde("engagement", "add", "acme", "--no-verify",
                env={"FDE_ENGAGEMENT_STRIPE_KEY": TEST_KEY})
    assert added.returncode == 0, added.stderr
    secret = "whsec_" + "S1gn1ngS3cr3t" * 3
    stored = fde("engagement", "webhook-secret", "acme", "--add",
                 env={"FDE_WEBHOOK_SECRET": secret})
    assert stored.returncode == 0, stored.stderr
    assert secret not in stored.stdout + stored.stderr
    assert f"whsec_…{secret[-4:]}" in stored.stdout
    assert secret.encode() not in (_isolated_env / "fde.db").read_bytes()
    bad = fde("engagement", "webhook-secret", "acme", "--add", env={"FDE_WEBHOOK_SECRET": "nope"})
    assert bad.returncode != 0 and "whsec_" in bad.stderr and "fix:" in bad.stderr
    unknown = fde("engagement", "webhook-secret", "ghost", "--add",
                  env={"FDE_WEBHOOK_SECRET": secret})
    assert unknown.returncode != 0 and "ghost" in unknown.stderr


def test_webhook_secret_shows_hints_and_rotation_without_prompting(
        _isolated_env: Path, monkeypatch: pytest.MonkeyPatch):
    from tests.cli.inprocess import fde_in_process, fresh_context

    monkeypatch.setenv("FDE_ENGAGEMENT_STRIPE_KEY", TEST_KEY)
    monkeypatch.delenv("FDE_WEBHOOK_SECRET", raising=False)
    old, new = "whsec_" + "0ld" * 8 + "AAAA", "whsec_" + "n3w" * 8 + "BBBB"
    with fresh_context():
        assert fde_in_process("engagement", "add", "acme", "--no-verify")[0] == 0
        code, out = fde_in_process("engagement", "webhook-secret", "acme")  # no stdin
        assert (code, "no webhook secret for acme" in out) == (0, True), out
        for secret in (old, new):
            code, out = fde_in_process("engagement", "webhook-secret", "acme", "--add",
                                       stdin=secret + "\n")
            assert code == 0, out
        code, out = fde_in_process("engagement", "webhook-secret", "acme")
        assert code == 0 and "rotation in progress: 2 secrets verify" in out, out
        assert out.index("whsec_…BBBB") < out.index("whsec_…AAAA"), out  # newest first
        assert old not in out and new not in out
        monkeypatch.setenv("FDE_WEBHOOK_SECRET", new)
        assert fde_in_process("engagement", "webhook-secret", "acme", "--replace")[0] == 0
        code, out = fde_in_process("engagement", "webhook-secret", "acme")
        assert code == 0 and "one secret, no rotation" in out and "AAAA" not in out, out
