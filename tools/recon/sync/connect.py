"""Connect: the platform snapshot plus one snapshot per connected account, read as one.

Each connected account is synced like the platform, through a gateway configured with its
``stripe_account`` (the ``Stripe-Account`` header), into ``<root>/accounts/<acct>/``; its
rows carry the account id in the ``account`` column. `SnapshotSet` reads the platform and
every account snapshot as one source for reconciliation; it is complete only when each is.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from core.errors import StripeRequestError
from tools.recon.sync.full import Lister
from tools.recon.sync.runner import SyncReport, run_sync
from tools.recon.sync.store import SNAPSHOT_SCHEMA, Checkpoint, Snapshot, TypeState

__all__ = ["SnapshotSet", "account_snapshot", "connected_accounts", "sync_connected"]


def account_snapshot(root: str | Path, account: str) -> Snapshot:
    return Snapshot(Path(root) / "accounts" / account)


def connected_accounts(gateway: Lister) -> list[str]:
    """Ids of the platform's connected accounts; [] when the API has no Connect."""
    try:
        return sorted(a["id"] for a in gateway.list_all("/v1/accounts", {}))
    except StripeRequestError as exc:
        if exc.http_status in (400, 404):
            return []
        raise


def sync_connected(gateway_for: Callable[[str], Lister], root: str | Path,
                   accounts: list[str], **options: object) -> dict[str, SyncReport]:
    """Syncs each connected account into its own snapshot under ``root``."""
    reports = {}
    for account in accounts:
        reports[account] = run_sync(gateway_for(account), account_snapshot(root, account),
                                    account=account, **options)  # type: ignore[arg-type]
    return reports


class SnapshotSet:
    """The platform snapshot and its connected accounts' snapshots, read as one."""

    def __init__(self, root: str | Path, accounts: list[str] | None = None) -> None:
        self.root = Path(root)
        self.platform = Snapshot(self.root)
        folder = self.root / "accounts"
        found = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
        self.accounts = {a: account_snapshot(self.root, a)
                         for a in (found if accounts is None else accounts)}

    def _all(self) -> list[Snapshot]:
        return [self.platform, *self.accounts.values()]

    def checkpoint(self) -> Checkpoint:
        """The platform's checkpoint; complete only when every account's sync is too."""
        cp = self.platform.checkpoint()
        cp.complete = all(s.checkpoint().complete for s in self._all())
        for snap in self.accounts.values():  # a type missing on an account is missing too
            for otype, reason in snap.checkpoint().unavailable().items():
                state = cp.types.setdefault(otype, TypeState())
                state.unavailable = state.unavailable or reason
        return cp

    def frame(self, object_type: str, *, include_deleted: bool = False) -> pl.DataFrame:
        frames = [s.frame(object_type, include_deleted=include_deleted) for s in self._all()]
        frames = [f for f in frames if f.height]
        return pl.concat(frames) if frames else pl.DataFrame(schema=SNAPSHOT_SCHEMA)

    def types(self) -> list[str]:
        """Object types any of the snapshots holds."""
        return sorted({t for s in self._all() for t in s.types()})

    def synced_types(self) -> set[str]:
        """Object types a full sync completed (in the platform snapshot)."""
        return {t for t, s in self.platform.checkpoint().types.items() if s.completed_generation}
