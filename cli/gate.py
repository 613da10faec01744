"""Exit codes a script or CI job can gate on (README, "The CLI"): 0 clean; 1 findings or a
recon verdict at or above `--fail-on`; 2 usage or configuration error (Click's usage errors
and `ConfigError` already exit 2); 3 a reconciliation that is INCOMPLETE — it could not
compare everything asked, so "no breaks" would be a claim it cannot make."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from tools.checks.model import Severity
from tools.recon.models import Verdict

CLEAN = 0
FAILED = 1
INCOMPLETE = 3


class SeverityLevel(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class VerdictLevel(StrEnum):
    pending = "pending"  # RECONCILED_WITH_PENDING and worse
    breaks = "breaks"


_SEVERITY_RANK = {s: i for i, s in enumerate(SeverityLevel)}
_VERDICT_RANK = {Verdict.RECONCILED: 0, Verdict.RECONCILED_WITH_PENDING: 1, Verdict.BREAKS: 2}
_LEVEL_RANK = {VerdictLevel.pending: 1, VerdictLevel.breaks: 2}


def check_exit(severities: Iterable[Severity], fail_on: SeverityLevel) -> int:
    threshold = _SEVERITY_RANK[fail_on]
    return FAILED if any(_SEVERITY_RANK[SeverityLevel(s)] >= threshold for s in severities) \
        else CLEAN


def recon_exit(verdict: Verdict, fail_on: VerdictLevel) -> int:
    if verdict is Verdict.INCOMPLETE:
        return INCOMPLETE
    return FAILED if _VERDICT_RANK[verdict] >= _LEVEL_RANK[fail_on] else CLEAN
