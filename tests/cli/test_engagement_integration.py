"""`fde engagement integration`: the handlers a user declares are validated before they
replace anything, and are what the checks and the map read back."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_bad_input import TEST_KEY, assert_clear_failure, fde
from tools.checks.sources import load_profile


def test_declared_handlers_are_stored_validated_and_read_back(_isolated_env: Path,
                                                                tmp_path: Path):
    added = fde("engagement", "add", "acme", "--no-verify",
                env={"FDE_ENGAGEMENT_STRIPE_KEY": TEST_KEY})
    assert added.returncode == 0, added.stderr
    good = tmp_path / "integration.yaml"
    good.write_text("api_version: '2024-06-20'\nhandlers:\n"
                    "  invoice.paid: billing.on_invoice_paid\n"
                    "  checkout.session.async_payment_failed: orders.on_async_failed\n"
                    "shadow:\n  corpus: corpora/events.jsonl\n  mapping: mapping.yaml\n"
                    "  primary: {name: v1, url: 'http://127.0.0.1:8001/hook', state: 'sqlite:///a'}\n"
                    "  candidate: {name: v2, url: 'http://127.0.0.1:8002/hook', "
                    "state: 'sqlite:///b'}\n")
    stored = fde("engagement", "integration", "acme", "--file", str(good))
    assert stored.returncode == 0, stored.stderr
    assert "2 handler(s)" in stored.stdout

    shown = json.loads(fde("engagement", "integration", "acme").stdout)
    assert shown["handlers"]["invoice.paid"] == "billing.on_invoice_paid"
    saved = load_profile(_isolated_env / "engagements" / "acme" / "integration.yaml")
    assert saved.api_version == "2024-06-20" and len(saved.handlers) == 2
    # the shadow plan's paths were relative to the file given, not to where it is stored
    assert saved.shadow.corpus == tmp_path.resolve() / "corpora" / "events.jsonl"
    assert saved.shadow.mapping == tmp_path.resolve() / "mapping.yaml"

    bad = tmp_path / "bad.yaml"
    bad.write_text("handlers:\n  invoice.paid: [not, a, name]\nhandler: typo\n")
    assert_clear_failure(fde("engagement", "integration", "acme", "--file", str(bad)),
                         "handlers.invoice.paid", "handler: Extra inputs")
    still = json.loads(fde("engagement", "integration", "acme").stdout)
    assert still == shown  # a rejected file replaces nothing

    assert_clear_failure(fde("engagement", "integration", "ghost"), "ghost")
