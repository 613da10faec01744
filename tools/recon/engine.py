"""`reconcile`: canonical frames of both sides in, discrepancies + bridge + verdict out.

The engine never reads anything but data: the Stripe snapshot (as frames) and the user's
rows (as frames). Sources are wired by `tools.recon.run`; tests and the benchmark build the
frames directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl
from pydantic import BaseModel

from core.ids import new_id
from tools.recon.align import align
from tools.recon.applied import classify_all_applied
from tools.recon.bridge import bridge_statements, decide_verdict
from tools.recon.classify import EntityContext, classify_entity
from tools.recon.currency import with_currency
from tools.recon.entitlements import classify_entitlements
from tools.recon.gaps import find_webhook_gaps
from tools.recon.grants import resolve_grants, unapplied_payments
from tools.recon.mapping import Mapping
from tools.recon.match import applied_states, fallback_match, remote_duplicates
from tools.recon.models import DiscrepancyList, ReconRun
from tools.recon.payouts import find_payout_breaks
from tools.recon.rows import with_ids
from tools.recon.rules import DISC_SCHEMA
from tools.recon.stripe_frames import OBJECT_FIELDS, _empty
from tools.recon.stripe_paths import ObjectSource

__all__ = ["ReconInput", "ReconOptions", "ReconResult", "reconcile", "to_run"]


class ReconOptions(BaseModel):
    expected_livemode: bool | None = None
    check_orphans: bool = True
    fallback_threshold: float = 0.9
    gap_min_run: int = 3
    gap_grace_seconds: int = 60


@dataclass
class ReconInput:
    mapping: Mapping
    stripe: dict[str, pl.DataFrame]  # entity → Stripe-side frame (stripe_frames.entity_frames)
    objects: dict[str, pl.DataFrame]  # object type → fixed extraction (object_frames)
    local: dict[str, pl.DataFrame]  # entity → user-side frame (adapter)
    source: ObjectSource | None = None  # raw snapshot frames, for v2 `granted_by` joins
    complete: bool = True
    incomplete_reasons: list[str] = field(default_factory=list)


@dataclass
class ReconResult:
    discrepancies: pl.DataFrame  # DISC_SCHEMA
    bridge: list
    compared: dict[str, int]
    complete: bool
    incomplete_reasons: list[str]


def _objects(objects: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    out = dict(objects)
    for otype, fields in OBJECT_FIELDS.items():
        if otype not in out:
            out[otype] = _empty(fields).rename({"id": "id"})
    return out


def reconcile(inp: ReconInput, options: ReconOptions | None = None) -> ReconResult:
    opts = options or ReconOptions()
    objects = _objects(inp.objects)
    log = inp.mapping.event_log()
    processed = inp.local.get(log[0]) if log else None
    events = objects["event"]
    parts: list[pl.DataFrame] = []
    compared: dict[str, int] = {}
    local = dict(inp.local)
    stripe_frames = dict(inp.stripe)
    applied = classify_all_applied(inp.mapping, local, objects)
    parts.append(applied.discrepancies)
    seen: dict[str, pl.DataFrame | None] = {}

    def states(state: str) -> pl.DataFrame | None:  # one pass over the events per state field
        if state not in seen:
            seen[state] = applied_states(events, processed, state)
        return seen[state]

    bought_with = {g.stripe_object for s in inp.mapping.entities.values()
                   for g in (getattr(s, "granted_by", None) or [])}
    for name, spec in inp.mapping.entities.items():
        if spec.kind != "mirror" or (log and name == log[0]):
            continue
        if name not in inp.stripe or name not in local:
            continue
        stripe, local[name] = with_currency(spec, inp.stripe[name], local[name], objects)
        stripe_frames[name] = stripe
        money = [f for f, s in spec.fields.items() if s.type == "money" and f in stripe.columns]
        amount = next((m for m in ("amount", "total", "amount_received") if m in money), None)
        local[name], review = fallback_match(stripe, local[name], amount=amount,
                                             threshold=opts.fallback_threshold)
        if inp.mapping.version >= 2:  # Stripe words, conditions, tolerances (v2 only)
            stripe, local[name] = align(spec, stripe, local[name])
            stripe_frames[name] = stripe  # only the objects the table mirrors
        state = "payment_status" if spec.stripe_object == "checkout.session" else "status"
        ctx = EntityContext(
            expected_livemode=opts.expected_livemode, check_orphans=opts.check_orphans,
            applied_states=states(state),
            remote_duplicates=remote_duplicates(stripe, local[name], kind=spec.stripe_object,
                                                objects=objects),
            review=review if review.height else None,
            unapplied_ids=applied.unapplied_ids.get(name),
            applied_elsewhere=spec.stripe_object in bought_with,
        )
        rows, n = classify_entity(name, spec, stripe, local[name], ctx)
        compared[name] = n
        parts.append(rows)
    for name, grants in _entitlements(inp, local).items():
        parts.append(classify_entitlements(grants, objects))
        compared[name] = grants.height
        spec = inp.mapping.entities[name]
        if spec.granted_by and inp.source is not None:
            parts.append(unapplied_payments(name, spec, grants, inp.source,
                                            _recorded(inp, local)))
    parts.append(find_webhook_gaps(events, processed, objects["webhook_endpoint"],
                                   min_run=opts.gap_min_run,
                                   grace_seconds=opts.gap_grace_seconds))
    if "balance_transaction" in inp.objects:  # fetched per payout (?payout=), when available
        parts.append(find_payout_breaks(objects["payout"], inp.objects["balance_transaction"]))
    disc = pl.concat(parts) if parts else pl.DataFrame(schema=DISC_SCHEMA)
    bridge = bridge_statements(stripe_frames, local, disc, inp.mapping, objects=objects)
    return ReconResult(discrepancies=disc, bridge=bridge, compared=compared,
                       complete=inp.complete, incomplete_reasons=list(inp.incomplete_reasons))


def _recorded(inp: ReconInput, local: dict[str, pl.DataFrame]) -> set[str]:
    """Stripe ids the user system holds in any mirror table."""
    return {i for n, e in inp.mapping.by_role("mirror").items() if n in local
            and "stripe_id" in local[n].columns
            for i in local[n]["stripe_id"].drop_nulls().to_list()}


def _entitlements(inp: ReconInput, local: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Entitlement frames with their sources: v1 the `entitlement` entity's source_id
    column, v2 every `role: entitlement` (sources found through `granted_by`)."""
    if inp.mapping.version < 2:
        return {"entitlement": local["entitlement"]} if "entitlement" in local else {}
    out = {}
    for name, spec in inp.mapping.by_role("entitlement").items():
        if name not in local:
            continue
        grants = local[name]
        if spec.granted_by and inp.source is not None:
            grants = resolve_grants(name, spec, grants, inp.source, _recorded(inp, local))
        out[name] = grants
    return out


def to_run(result: ReconResult, *, engagement: str | None = None, run_id: str | None = None,
           started_at: datetime | None = None, scope: dict | None = None,
           warnings: list[str] | None = None) -> ReconRun:
    """The boundary model of a run (verdict decided here)."""
    rid = run_id or new_id("rcn")
    frame = with_ids(result.discrepancies, rid)
    # decided and counted on the columns: models are built only for the rows shown
    counts = {c: n for c, n in frame.group_by("class").len().sort("class").iter_rows()}
    verdict = decide_verdict(complete=result.complete, classes=list(counts),
                             needs_review=bool(frame["needs_review"].any()),
                             bridge=result.bridge)
    items = DiscrepancyList(frame=frame)
    now = datetime.now(UTC)
    return ReconRun(
        id=rid, engagement=engagement, started_at=started_at or now, finished_at=now,
        verdict=verdict, incomplete_reasons=result.incomplete_reasons, scope=scope or {},
        counts=counts, compared=result.compared, bridge=result.bridge, discrepancies=items,
        warnings=(warnings or []) + [
            f"bridge residual {b.residual} {b.label}" if b.computable
            else f"bridge not computable ({b.label}): {b.reason}"
            for b in result.bridge if b.residual or not b.computable],
    )
