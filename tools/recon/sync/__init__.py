"""Stripe → local snapshot: full sync by list endpoints, incremental by the events API."""

from tools.recon.sync.progress import NullProgress, RichProgress, SyncProgress
from tools.recon.sync.runner import SyncReport, run_sync
from tools.recon.sync.store import Checkpoint, Snapshot
from tools.recon.sync.types import DEFAULT_TYPES, SYNC_TYPES, resolve_types

__all__ = [
    "DEFAULT_TYPES", "SYNC_TYPES", "Checkpoint", "NullProgress", "RichProgress", "Snapshot",
    "SyncProgress", "SyncReport", "resolve_types", "run_sync",
]
