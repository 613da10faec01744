"""Deterministic integration detectors (failure-modes.md), one module per family.

    model      Check, Finding;  context  CheckContext (built once per run)
    detectors/ the families;    registry every check by id
    sources    contexts from the recon snapshot, user system, delivery log, inbox
    runner     run (and store) checks;  store  findings across runs
    incremental  checks the receiver runs on newly stored events
"""

from tools.checks.context import CheckContext, Delivery, Profile
from tools.checks.model import Check, Finding
from tools.checks.registry import CHECKS, select_checks
from tools.checks.runner import CheckReport, run_and_store, run_checks

__all__ = ["CHECKS", "Check", "CheckContext", "CheckReport", "Delivery", "Finding", "Profile",
           "run_and_store", "run_checks", "select_checks"]
