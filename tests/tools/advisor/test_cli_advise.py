"""`fde advise` end to end: an engagement on the replica; the calls its code made, as its
OpenTelemetry tracing would export them, in the engagement's data folder (the default) or
passed with --log."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sandbox.telemetry import fetch_request_log, write_otlp
from tests.cli.test_bad_input import fde
from tools.advisor import calls_path


@pytest.mark.slow  # four CLI processes
def test_fde_advise_reads_the_engagements_exported_spans(replica, tmp_path):
    env = {"FDE_ENGAGEMENT_STRIPE_KEY": replica.api_key}
    added = fde("engagement", "add", "acme", "--api-base", replica.url, env=env)
    assert added.returncode == 0, added.stderr
    client = replica.client()
    intent = client.v1.payment_intents.create(params={"amount": 700, "currency": "usd"})
    replica.admin.set_clock(replica.admin.now(), freeze=True)
    for _ in range(6):
        replica.admin.advance_clock(30)
        client.v1.payment_intents.retrieve(intent.id)
    missing = fde("advise", "--engagement", "acme")
    assert missing.returncode != 0 and "stripe-calls.otlp.json does not exist" in missing.stderr
    assert "OpenTelemetry" in missing.stderr
    write_otlp(fetch_request_log(replica.url),
               calls_path(Path(os.environ["FDE_DATA_DIR"]), "acme"))

    as_json = fde("advise", "--engagement", "acme", "--json")
    assert as_json.returncode == 0, as_json.stderr
    advice = json.loads(as_json.stdout)
    polls = [f for f in advice["findings"] if f["kind"] == "polling_instead_of_webhooks"]
    assert len(polls) == 1 and polls[0]["avoidable_calls"] == 5
    table = fde("advise", "--engagement", "acme")
    assert table.returncode == 0 and "polling_instead_of_webhooks" in table.stdout
    assert replica.api_key not in as_json.stdout + table.stdout

    bad = tmp_path / "log.jsonl"
    bad.write_text('{"request_id": "req_1", "at": 1, "method": "GET", "path": "/v1/x"}\n')
    failed = fde("advise", "--engagement", "acme", "--log", str(bad))
    assert failed.returncode != 0 and "line 1: field 'status'" in failed.stderr
    assert "fix:" in failed.stderr
