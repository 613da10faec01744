"""Checks the receiver runs after storing new events (the processor's hook).

The inbox is a partial view (no Stripe snapshot, no user rows), so only the checks whose
inputs it satisfies run, and findings they no longer see are not resolved here — a full
`fde check` run does that.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

from core.storage import Database
from tools.checks.context import CheckContext, Profile
from tools.checks.registry import select_checks
from tools.checks.runner import run_checks
from tools.checks.sources import deliveries_from_inbox
from tools.checks.store import save_findings
from tools.webhooks import inbox
from tools.webhooks.inbox import InboxEvent

__all__ = ["run_on_events"]


def run_on_events(db: Database, engagement: str, events: Sequence[InboxEvent],
                  profile: Profile | None = None) -> int:
    """Run the inbox-only checks for `engagement`; returns how many findings were stored."""
    if not events:
        return 0
    with db.session() as session:
        bodies = [inbox.body(session, engagement, e.event_id) for e in events]
        deliveries = deliveries_from_inbox(session, engagement)
    parsed = [json.loads(b) for b in bodies if b]
    ctx = CheckContext(now=int(time.time()), profile=profile or Profile(), events=parsed,
                       deliveries=deliveries, engagement=engagement,
                       available=frozenset({"events", "inbox"}))
    report = run_checks(ctx, [c for c in select_checks() if not c.missing(ctx.available)])
    if not report.findings:
        return 0
    with db.session() as session:
        save_findings(session, engagement, report.findings, evaluated=report.evaluated,
                      resolve_missing=False)
    return len(report.findings)
