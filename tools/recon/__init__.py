"""Reconciliation: Stripe snapshot vs the user's own database.

    sync/        Stripe → local Parquet snapshot (list endpoints + events cursor, resumable)
    mapping      the user's mapping file; adapter   the user's DB → canonical frames
    stripe_frames snapshot → canonical frames; match / classify / entitlements / gaps /
                 payouts  rules
    bridge       bridge statement + verdict; engine  `reconcile` (frames in, results out)
    run          one run for an engagement; repair / apply  plans; store  stored runs
    report/      JSON, markdown, HTML
"""

from tools.recon.engine import ReconInput, ReconOptions, ReconResult, reconcile, to_run
from tools.recon.models import (
    BridgeStatement,
    Discrepancy,
    DiscrepancyClass,
    ReconRun,
    Verdict,
)

__all__ = [
    "BridgeStatement", "Discrepancy", "DiscrepancyClass", "ReconInput", "ReconOptions",
    "ReconResult", "ReconRun", "Verdict", "reconcile", "to_run",
]
