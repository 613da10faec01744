"""Rate budget: 50 engagements on one Stripe account (each with its own key, so only an
account-wide budget can hold them together) synced in one tick against the replica with a
25 req/s limit and injected 429s: no job fails, and the replica's own request log shows the
account never got more than the budget allows."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from agents.autopilot import Autopilot, AutopilotDeps
from core.settings import load_settings
from core.storage import open_database
from sandbox.replica.config import PLATFORM_ACCOUNT
from sandbox.replica.testing import running_replica
from tests.agents.autopilot.helpers import Clock, add_engagement

pytestmark = pytest.mark.slow

RATE = 25
ENGAGEMENTS = 50
POLICY = ("schedule: {sync: 60, map_refresh: null, checks: null, reconcile: null, "
          "shadow: false, sync_types: [customer]}\n")


def test_fifty_engagements_share_one_account_budget(tmp_path: Path):
    settings = load_settings(data_dir=tmp_path / "data", stripe_rate_limit=float(RATE))
    db = open_database(settings)
    with running_replica(tmp_path / "replica.sqlite3") as replica:
        client = replica.client()
        for i in range(3):  # a few objects: every sync has something to page through
            client.v1.customers.create(params={"email": f"c{i}@example.com"})
        for i in range(ENGAGEMENTS):
            add_engagement(settings, db, f"eng-{i:02d}", api_base=replica.url,
                           key=f"sk_test_budget{i:02d}{'x' * 20}", account=PLATFORM_ACCOUNT,
                           policy=POLICY)
        replica.admin.clear_requests()
        replica.admin.add_fault(path="/v1/customers", kind="rate_limit", count=5,
                                retry_after=1)
        pilot = Autopilot(AutopilotDeps(settings=settings, db=db, clock=Clock(),
                                        concurrency=8))
        report = pilot.run_once()
        totals = replica.admin.request_totals(detail=True)

    assert len(report.jobs) == ENGAGEMENTS
    assert [j for j in report.jobs if j.status != "done"] == []  # no 429 surfaced
    assert totals["faults"].get("rate_limit") == 5  # they did happen, and were ridden out
    per_second = Counter(e["at"] for e in totals["entries"])
    seconds = sorted(per_second)
    n = totals["total"]
    assert n >= 2 * ENGAGEMENTS
    # GCRA with burst b allows at most b + RATE * k requests in any k-second window; the
    # log counts whole seconds, so a window of k log-seconds spans less than k + 1 seconds.
    burst = RATE
    for i, start in enumerate(seconds):
        window = 0
        for end in seconds[i:]:
            window += per_second[end]
            assert window <= burst + RATE * (end - start + 1), (start, end, per_second)
    # and the whole run could not have been faster than the budget
    assert seconds[-1] - seconds[0] + 1 >= (n - burst) / RATE - 1
