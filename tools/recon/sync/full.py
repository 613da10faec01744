"""Full sync of one object type: list endpoints, limit 100, `created` windows walked as
parallel slices, each slice resumable from its own `starting_after` cursor.

A server that refuses the ``created`` filter on a list (localstripe answers 400 on most) is
asked again without it, and the window is applied here to what it lists.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from core.errors import StripeRequestError
from tools.recon.sync.store import LIST, Slice, Snapshot, TypeState
from tools.recon.sync.types import ListSpec

__all__ = ["Lister", "plan_slices", "sync_type_full", "VERSION_SCALE"]

FLUSH_EVERY = 500
"""Objects buffered before a segment + checkpoint is written (a kill re-fetches at most this
many per slice, and the snapshot's upsert rule collapses the overlap)."""
VERSION_SCALE = 1_000_000
"""Versions are ``unix seconds * VERSION_SCALE + sequence`` so same-second events order."""


class Lister(Protocol):
    def list_all(self, resource: str, params: dict[str, Any] | None = None, *,
                 page_size: int = 100) -> Any: ...

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]: ...


def plan_slices(*, since: int | None, lower: int | None, upper: int, count: int) -> list[Slice]:
    """Windows covering everything from ``since`` (or the beginning) on.

    The first window has no lower bound unless ``since`` is given and the last none upper,
    so a bad guess of ``lower`` only unbalances the slices, never loses objects.
    """
    if count <= 1 or lower is None or upper <= (since or lower) + count:
        return [Slice(gte=since)]
    start = since if since is not None else lower
    step = max(1, (upper - start) // count)
    cuts = [start + step * i for i in range(1, count)]
    bounds = [since, *cuts, None]
    return [Slice(gte=bounds[i], lt=bounds[i + 1]) for i in range(count)]


def _listing(gateway: Lister, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The list, windowed by the server or, when it refuses ``created``, by us."""
    window = params.get("created")
    listed = iter(gateway.list_all(path, params))
    try:
        first = next(listed, None)
    except StripeRequestError as exc:
        if exc.http_status != 400 or window is None:
            raise
        unfiltered = {k: v for k, v in params.items() if k != "created"}
        gte, lt = window.get("gte"), window.get("lt")
        for obj in gateway.list_all(path, unfiltered):
            created = obj.get("created")
            if created is None or ((gte is None or created >= gte)
                                   and (lt is None or created < lt)):
                yield obj
        return
    if first is not None:
        yield first
        yield from listed


def _run_slice(
    gateway: Lister, snap: Snapshot, spec: ListSpec, index: int, *, gen: int, version: int,
    account: str | None, stop: threading.Event, progress: Callable[[int], None],
) -> None:
    state = snap.checkpoint().types[spec.object_type].slices[index]
    if state.done:
        return
    params: dict[str, Any] = dict(spec.params)
    window = {op: v for op, v in (("gte", state.gte), ("lt", state.lt)) if v is not None}
    if spec.windowable and window:
        params["created"] = window
    if state.cursor:
        params["starting_after"] = state.cursor
    buffer: list[dict[str, Any]] = []

    def flush(done: bool) -> None:
        if buffer:
            for obj in buffer:
                obj["_account"] = account
            snap.append(spec.object_type, buffer, version=version * VERSION_SCALE,
                        source=LIST, gen=gen)
        with snap.editing() as cp:
            sl = cp.types[spec.object_type].slices[index]
            if buffer:
                sl.cursor = buffer[-1]["id"]
                sl.count += len(buffer)
            sl.done = done
        progress(len(buffer))
        buffer.clear()

    for obj in _listing(gateway, spec.path, params):
        buffer.append(obj)
        if len(buffer) >= FLUSH_EVERY:
            flush(False)
        if stop.is_set():
            flush(False)
            return
    flush(True)


def sync_type_full(
    gateway: Lister, snap: Snapshot, spec: ListSpec, *, version: int, since: int | None,
    slices: int, account: str | None, stop: threading.Event,
    progress: Callable[[int], None], lower_bound: Callable[[], int | None],
) -> bool:
    """Lists every object of one type into the snapshot; True when the type completed.

    Resumes a running generation (its slices and cursors) instead of starting over.
    """
    with snap.editing() as cp:
        state = cp.types.setdefault(spec.object_type, TypeState())
        if state.begin(version):
            want = slices if spec.windowable else 1
            state.slices = plan_slices(
                since=since, lower=lower_bound() if want > 1 else None,
                upper=version + 1, count=want,
            )
        gen, stamp, n = state.generation, state.version, len(state.slices)
    if n == 1:
        _run_slice(gateway, snap, spec, 0, gen=gen, version=stamp, account=account, stop=stop,
                   progress=progress)
    else:
        with ThreadPoolExecutor(max_workers=n, thread_name_prefix="recon-sync") as pool:
            futures = [pool.submit(_run_slice, gateway, snap, spec, i, gen=gen, version=stamp,
                                   account=account, stop=stop, progress=progress)
                       for i in range(n)]
            errors = [f.exception() for f in futures]
        first = next((e for e in errors if e is not None), None)
        if first is not None:
            raise first
    if not all(s.done for s in snap.checkpoint().types[spec.object_type].slices):
        return False
    # A sync limited by --since does not see older objects: keep them.
    objects = snap.compact(spec.object_type,
                           drop_unlisted_before_gen=gen if since is None else None,
                           since_version=stamp * VERSION_SCALE)
    with snap.editing() as cp:
        state = cp.types[spec.object_type]
        state.running = False
        state.pending_full = False
        state.completed_generation = gen
        state.objects = objects
    return True
