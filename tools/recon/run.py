"""One reconciliation run for an engagement: snapshot + user system → `ReconRun`.

Wires the sources to the engine: the Stripe snapshot (from `sync`), the user system (from
`adapter`), the mapping. A user system that cannot be reached, or a snapshot whose sync did
not finish, yields verdict INCOMPLETE with the reasons — never a partial report that looks
complete. So does an object type the Stripe server could not list (404, or 403 for a
restricted key): one reason per such type, and the entities mirroring it are not compared.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from core.ids import new_id
from tools.recon.adapter import UserSystem
from tools.recon.engine import ReconInput, ReconOptions, reconcile, to_run
from tools.recon.errors import UserSystemUnreachable
from tools.recon.mapping import Mapping
from tools.recon.models import ReconRun, Verdict
from tools.recon.stripe_frames import entity_frames, object_frames
from tools.recon.sync.connect import SnapshotSet
from tools.recon.sync.store import Snapshot
from tools.recon.sync.types import resolve_types

__all__ = ["run_recon"]


def run_recon(
    *, snapshot: Snapshot | SnapshotSet, user: UserSystem, mapping: Mapping,
    engagement: str | None = None,
    expected_livemode: bool | None = None, since: int | None = None,
    types: list[str] | None = None, warnings: list[str] | None = None,
    options: ReconOptions | None = None,
) -> ReconRun:
    started = datetime.now(UTC)
    rid = new_id("rcn")
    scope = {"since": since, "types": types}
    reasons: list[str] = []
    checkpoint = snapshot.checkpoint()
    if not checkpoint.complete:
        reasons.append("the Stripe sync did not finish: run `fde recon sync` again to resume")
    try:
        scoped = set(resolve_types(types)) if types else None
    except ValueError:  # not object types the sync knows: scope by the names as given
        scoped = set(types or [])
    unavailable = {t: r for t, r in checkpoint.unavailable().items()
                   if scoped is None or t in scoped}
    reasons += [f"Stripe {t} not compared: {r.describe()}" for t, r in sorted(unavailable.items())]
    try:
        local = user.load()
    except UserSystemUnreachable as exc:
        reasons.append(str(exc))
        return ReconRun(id=rid, engagement=engagement, started_at=started,
                        finished_at=datetime.now(UTC), verdict=Verdict.INCOMPLETE,
                        incomplete_reasons=reasons, scope=scope, warnings=warnings or [])

    def source(object_type: str) -> pl.DataFrame:
        frame = snapshot.frame(object_type, include_deleted=True)
        if since is not None:
            frame = frame.filter(pl.col("created") >= since)
        return frame

    notes: list[str] = list(getattr(user, "warnings", []))
    stripe = entity_frames(mapping, source, notes)
    for name, ids in getattr(user, "excluded", {}).items():
        if name in stripe and ids:  # rows a `where` filter leaves out: no counterpart expected
            stripe[name] = stripe[name].filter(~pl.col("stripe_id").is_in(ids))
    skipped = sorted(name for name, spec in mapping.entities.items()
                     if name in stripe and (spec.stripe_object in unavailable or (
                         spec.stripe_object not in checkpoint.types and stripe[name].is_empty())))
    for name in skipped:  # not in the snapshot: comparing would call every row an orphan
        del stripe[name]
        local.pop(name, None)
    warnings = [*(warnings or []), *notes, *(
        f"{name} not compared: Stripe {mapping.entities[name].stripe_object} objects are not "
        "in the snapshot (" + ("the server could not list them"
                               if mapping.entities[name].stripe_object in unavailable
                               else "no list endpoint synced") + ")" for name in skipped)]
    objects = object_frames(lambda t: source(t).filter(~pl.col("deleted")))
    partial = since is not None or bool(types)
    if partial:  # compare only what the partial sync saw, on both sides
        local = {name: frame.filter(pl.col("stripe_id").is_in(stripe[name]["stripe_id"]
                                                              .implode()))
                 if name in stripe and "stripe_id" in frame.columns else frame
                 for name, frame in local.items()}
    opts = (options or ReconOptions()).model_copy(update={
        "expected_livemode": expected_livemode, "check_orphans": not partial})
    result = reconcile(ReconInput(mapping=mapping, stripe=stripe, objects=objects, local=local,
                                  source=lambda t: source(t).filter(~pl.col("deleted")),
                                  complete=not reasons, incomplete_reasons=reasons), opts)
    return to_run(result, engagement=engagement, run_id=rid, started_at=started, scope=scope,
                  warnings=warnings)
