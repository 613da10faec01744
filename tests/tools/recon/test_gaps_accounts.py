"""WEBHOOK_GAP looks only at the accounts whose events the endpoint processed: a second
account's own events (a separate test account synced as a connected account) are not a gap."""

from __future__ import annotations

import polars as pl

from tools.recon.gaps import find_webhook_gaps


def _events(account: str | None, start: int, n: int, prefix: str) -> list[dict]:
    return [{"id": f"evt_{prefix}{i}", "type": "invoice.paid", "created": start + i,
             "account": account} for i in range(n)]


def test_another_accounts_events_are_not_a_gap():
    rows = _events(None, 1000, 10, "p") + _events("acct_test", 1005, 6, "t")
    events = pl.DataFrame(rows, schema={"id": pl.String, "type": pl.String,
                                        "created": pl.Int64, "account": pl.String})
    processed = pl.DataFrame({"stripe_id": [f"evt_p{i}" for i in range(10)],
                              "type": ["invoice.paid"] * 10})
    endpoints = pl.DataFrame(schema={"status": pl.String, "events": pl.String})
    gaps = find_webhook_gaps(events, processed, endpoints, grace_seconds=0)
    assert gaps.is_empty()
    # the platform's own unprocessed run still is one
    gaps = find_webhook_gaps(events, processed.head(4), endpoints, grace_seconds=0)
    assert gaps["ev_stripe"].to_list() == [[f"evt_p{i}" for i in range(4, 10)]]
