"""Sync of object types Stripe lists only per parent object.

Two such lists matter to reconciliation: a payout's balance transactions
(``GET /v1/balance_transactions?payout=po_…``, automatic payouts only: for a manual payout
Stripe cannot say which charges it paid out) for PAYOUT_BREAK, and a customer's cash-balance
transactions (``GET /v1/customers/{id}/cash_balance_transactions``) for bank transfers
applied to invoices and payments.

A pass walks the parents already in the snapshot in id order; the type's single slice keeps
the last parent done as its cursor, so a killed pass resumes after it. Each child is stored
with the parent it was listed for (``parent_field``), which balance transactions do not
carry themselves. Between full passes, payouts that arrived through events have no
transactions fetched yet: `fetch_new_parents` lists just those. (New cash-balance
transactions come through the events API like any object.)

A parent the server answers 404 for is skipped when the parent itself is gone (deleted since
the snapshot saw it); when the parent is still there, the list under it is what the server
lacks, and the type is unavailable (`availability`).

A spec with ``fetch`` names a function that gets the whole parent and may make several calls
(meter event summaries per metered subscription: `meter_usage.py`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import polars as pl

from core.errors import StripeError
from tools.recon.sync.availability import TypeUnavailable, judge
from tools.recon.sync.full import VERSION_SCALE, Lister
from tools.recon.sync.meter_usage import fetch_meter_usage
from tools.recon.sync.store import LIST, Slice, Snapshot, TypeState
from tools.recon.sync.types import ListSpec

__all__ = ["fetch_new_parents", "sync_children"]


def _parents(snap: Snapshot, spec: ListSpec) -> dict[str, str]:
    """id → stored JSON of the parents whose children this spec lists, in id order (the
    pass's resume order)."""
    if spec.parent is None:
        raise ValueError(f"{spec.object_type} is not listed per parent object")
    frame = snap.frame(spec.parent)
    if frame.is_empty():
        return {}
    for path, wanted in spec.parent_filter.items():
        frame = frame.filter(
            pl.col("data").str.json_path_match(f"$.{path}") == str(wanted).lower())
    frame = frame.sort("id")
    return dict(zip(frame["id"].to_list(), frame["data"].to_list(), strict=True))


def _list(gateway: Lister, spec: ListSpec, parent: str, data: str, *,
          watermark: int) -> list[dict[str, Any]]:
    if spec.fetch == "meter_usage":
        return fetch_meter_usage(gateway, json.loads(data), now=stripe_now(gateway, watermark))
    params = dict(spec.params)
    if spec.parent_param:
        params[spec.parent_param] = parent
    return list(gateway.list_all(spec.path.format(parent=parent), params))


def stripe_now(gateway: Lister, watermark: int) -> int:
    """Stripe's "now": its last answer's ``Date`` (a sandbox's clock may be months from
    ours), else the later of the newest event's time and the wall clock (a quiet account
    has no recent event)."""
    server = getattr(gateway, "server_time", None)
    told = server() if callable(server) else None
    return told if told is not None else max(watermark, int(time.time()))


def _fetch(gateway: Lister, snap: Snapshot, spec: ListSpec, parent: str, data: str, *,
           version: int, gen: int, account: str | None) -> int:
    try:
        children = _list(gateway, spec, parent, data, watermark=version)
    except StripeError as exc:
        reason = judge(gateway, spec, exc, account=account, parent=parent)
        if reason is not None:
            raise TypeUnavailable(spec.object_type, reason) from None
        if exc.http_status == 404:  # the parent was deleted since: nothing under it
            return 0
        raise
    for obj in children:
        obj["_account"] = account
        if spec.parent_field:
            obj[spec.parent_field] = parent
    return snap.append(spec.object_type, children, version=version * VERSION_SCALE,
                       source=LIST, gen=gen)


def sync_children(
    gateway: Lister, snap: Snapshot, spec: ListSpec, *, version: int, account: str | None,
    stop: threading.Event, progress: Callable[[int], None],
) -> bool:
    """One full pass over the parents (resumed if one is running); True when it completed."""
    with snap.editing() as cp:
        state = cp.types.setdefault(spec.object_type, TypeState())
        if state.begin(version):
            state.slices = [Slice()]
        gen, stamp, cursor = state.generation, state.version, state.slices[0].cursor
    for parent, data in _parents(snap, spec).items():
        if cursor is not None and parent <= cursor:
            continue
        if stop.is_set():
            return False
        n = _fetch(gateway, snap, spec, parent, data, version=stamp, gen=gen, account=account)
        with snap.editing() as cp:
            sl = cp.types[spec.object_type].slices[0]
            sl.cursor, sl.count = parent, sl.count + n
        progress(n)
    objects = snap.compact(spec.object_type, drop_unlisted_before_gen=gen,
                           since_version=stamp * VERSION_SCALE)
    with snap.editing() as cp:
        state = cp.types[spec.object_type]
        state.slices[0].done = True
        state.running = state.pending_full = False
        state.completed_generation = gen
        state.objects = objects
    return True


def fetch_new_parents(
    gateway: Lister, snap: Snapshot, spec: ListSpec, *, version: int, account: str | None,
    progress: Callable[[int], None],
) -> int:
    """Children of parents that have none stored yet (payouts seen since the last pass)."""
    if not spec.parent_field:
        return 0
    stored = snap.frame(spec.object_type)
    known = set(stored["data"].str.json_path_match(f"$.{spec.parent_field}").to_list()
                if stored.height else [])
    gen = snap.checkpoint().types[spec.object_type].completed_generation
    fetched = 0
    for parent, data in _parents(snap, spec).items():
        if parent not in known:
            n = _fetch(gateway, snap, spec, parent, data, version=version, gen=gen,
                       account=account)
            progress(n)
            fetched += n
    return fetched
