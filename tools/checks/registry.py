"""Every detector, by id (one family module each under detectors/)."""

from __future__ import annotations

from core.errors import NotFoundError
from tools.checks.detectors import (
    billing,
    checkout,
    connect,
    currency,
    invoicing,
    lpm,
    metering,
    ops,
    payments,
    webhook,
)
from tools.checks.model import Check

__all__ = ["CHECKS", "select_checks"]

_FAMILIES = (webhook, invoicing, payments, billing, currency, lpm, checkout, connect, ops,
             metering)
CHECKS: dict[str, Check] = {c.id: c for fam in _FAMILIES for c in fam.CHECKS}


def select_checks(only: list[str] | None = None) -> list[Check]:
    """All checks, or those named by id, id prefix (``webhook.``) or failure mode (FM-04)."""
    if not only:
        return list(CHECKS.values())
    out: list[Check] = []
    for name in only:
        hits = [c for c in CHECKS.values()
                if c.id == name or c.failure_mode == name.upper()
                or (name.endswith(".") and c.id.startswith(name))]
        if not hits:
            raise NotFoundError(f"no check {name!r}",
                                hint="list them with `fde check list`")
        out += [h for h in hits if h not in out]
    return out
