"""Which category an occurrence belongs to, and why.

- migration_friction: what bites while moving onto Stripe or between its versions — API
  version drift, test/live mix-ups, backfills hitting rate limits, search lag after writes,
  seat-sync limits, double billing during cut-over, archived prices behind lookup keys;
  and the reconciliation classes those leave behind (ENV_MISMATCH, ORPHAN_LOCAL).
- multi_product_failure: failures at the seam of two Stripe products, where each product
  works alone (Checkout × local payment methods, Invoicing × Payments, Connect × Billing...).
- integration_gap: everything else — a handler, check or state the integration lacks.
"""

from __future__ import annotations

from knowledge.signals.model import Category

__all__ = ["category_for"]

MIGRATION_FMS = frozenset({"FM-05", "FM-08", "FM-25", "FM-26", "FM-27", "FM-28", "FM-31"})
SEAM_FMS = frozenset({"FM-13", "FM-14", "FM-15", "FM-16", "FM-17", "FM-22", "FM-24", "FM-32",
                      "FM-33"})
MIGRATION_CLASSES = frozenset({"ENV_MISMATCH", "ORPHAN_LOCAL"})
SEAM_CLASSES = frozenset({"UNAPPLIED_PAYMENT", "ORPHAN_APPLICATION",
                          "REVERSED_AFTER_APPLICATION", "PAYOUT_BREAK"})


def category_for(signal: str) -> Category:
    base = signal.split(".", 1)[0].upper()
    if base in MIGRATION_FMS or base in MIGRATION_CLASSES:
        return "migration_friction"
    if base in SEAM_FMS or base in SEAM_CLASSES:
        return "multi_product_failure"
    return "integration_gap"
