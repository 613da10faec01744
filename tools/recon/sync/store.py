"""The local Stripe snapshot: Parquet segments per object type plus a JSON checkpoint.

Writers only append segments (written to a temporary name, then renamed, so a killed
process never leaves half a file); readers see one row per object id: the row with the
highest ``(version, source)``. That one rule is the timestamp-protected upsert — an older
page or a late, older event can never overwrite newer data — and it also makes resumed
work idempotent: a page fetched twice collapses into one row.

``version`` is the unix time the data is known to be current at: an event's ``created`` for
data taken from an event, the sync's start watermark for list pages. ``source`` breaks
ties (0 list page, 1 event). ``gen`` is the full-sync generation that last listed the
object; `compact` drops objects a completed full sync no longer listed.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, Field

from tools.recon.sync.availability import Unavailable

__all__ = ["Checkpoint", "EventsCursor", "Slice", "Snapshot", "TypeState", "SNAPSHOT_SCHEMA"]

SNAPSHOT_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String(), "object": pl.String(), "account": pl.String(), "livemode": pl.Boolean(),
    "created": pl.Int64(), "deleted": pl.Boolean(), "version": pl.Int64(), "source": pl.Int8(),
    "gen": pl.Int64(), "data": pl.String(),
}
LIST, EVENT = 0, 1


class Slice(BaseModel):
    """One `created` window of a full sync and how far it got."""

    gte: int | None = None
    lt: int | None = None
    cursor: str | None = None
    done: bool = False
    count: int = 0


class TypeState(BaseModel):
    generation: int = 0
    running: bool = False
    version: int = 0  # watermark the running/last full sync's pages are stamped with
    slices: list[Slice] = Field(default_factory=list)
    completed_generation: int = 0
    pending_full: bool = False  # a full re-sync was ordered (retention gap) and not finished
    objects: int = 0
    # the server could not list this type on the last try (404, or 403 for a restricted key):
    # not complete, retried on every sync, and stated by whatever reads the snapshot
    unavailable: Unavailable | None = None

    @property
    def complete(self) -> bool:
        return (bool(self.completed_generation) and not self.running and not self.pending_full
                and self.unavailable is None)

    @property
    def settled(self) -> bool:
        """Nothing left to do in this sync: listed in full, or recorded as unavailable."""
        return self.complete or (self.unavailable is not None and not self.running)

    def begin(self, version: int) -> bool:
        """Start a new listing generation stamped `version`, unless one is running (it is
        resumed instead); True when a new one started and its slices must be planned."""
        if self.running:
            return False
        self.generation += 1
        self.running = True
        # never below the last generation's stamp (its watermark may have come from the
        # wall clock, ours from Stripe's): a newer listing must win over an older one
        self.version = max(version, self.version + 1 if self.version else version)
        return True


class EventsCursor(BaseModel):
    id: str | None = None
    created: int | None = None
    available: bool = True  # false when the Stripe side has no events API
    # how events after the cursor are asked for: Stripe's ``ending_before``, or (on a server
    # that rejects it) ``created[gte]`` with overlap and dedupe by id (`events.py`)
    paging: Literal["ending_before", "created"] = "ending_before"
    # the order the server lists events in, once a listing showed it (None: not yet seen,
    # Stripe's newest first is assumed)
    order: Literal["newest_first", "oldest_first"] | None = None


class Checkpoint(BaseModel):
    types: dict[str, TypeState] = Field(default_factory=dict)
    events: EventsCursor = Field(default_factory=EventsCursor)
    last_sync_started: int | None = None
    last_sync_completed: int | None = None
    complete: bool = False  # the last sync finished (unavailable types are settled too)

    def unavailable(self) -> dict[str, Unavailable]:
        """Object type → why the server could not list it."""
        return {t: s.unavailable for t, s in self.types.items() if s.unavailable is not None}


def _type_dir(name: str) -> str:
    return name.replace(".", "__")


class Snapshot:
    """A snapshot directory; thread-safe for one process (slices write in parallel)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()

    # -- checkpoint ----------------------------------------------------------------------
    @property
    def _checkpoint_path(self) -> Path:
        return self.root / "checkpoint.json"

    def checkpoint(self) -> Checkpoint:
        with self._lock:
            if not self._checkpoint_path.exists():
                return Checkpoint()
            return Checkpoint.model_validate_json(self._checkpoint_path.read_text())

    def save_checkpoint(self, checkpoint: Checkpoint) -> None:
        with self._lock:
            _atomic_write(self._checkpoint_path, checkpoint.model_dump_json(indent=1).encode())

    @contextmanager
    def editing(self) -> Iterator[Checkpoint]:
        """Read-modify-write of the checkpoint under the lock."""
        with self._lock:
            cp = self.checkpoint()
            yield cp
            self.save_checkpoint(cp)

    # -- objects -------------------------------------------------------------------------
    def _dir(self, object_type: str) -> Path:
        return self.root / "objects" / _type_dir(object_type)

    def append(
        self, object_type: str, objects: Iterable[Mapping[str, Any]], *, version: int,
        source: int, gen: int = 0, versions: list[int] | None = None,
    ) -> int:
        rows = list(objects)
        if not rows:
            return 0
        frame = pl.DataFrame(
            {
                "id": [o["id"] for o in rows],
                "object": [str(o.get("object") or object_type) for o in rows],
                "account": [(o.get("account") if o.get("object") == "event" else None)
                            or o.get("_account") for o in rows],
                "livemode": [o.get("livemode") for o in rows],
                "created": [o.get("created") for o in rows],
                "deleted": [bool(o.get("deleted")) or bool(o.get("_deleted")) for o in rows],
                "version": versions if versions is not None else [version] * len(rows),
                "source": [source] * len(rows),
                "gen": [gen] * len(rows),
                "data": [json.dumps(o, separators=(",", ":")) for o in rows],
            },
            schema=SNAPSHOT_SCHEMA,
        )
        folder = self._dir(object_type)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"part-{uuid.uuid4().hex}.parquet"
        tmp = target.with_suffix(".tmp")
        frame.write_parquet(tmp)
        os.replace(tmp, target)
        return len(rows)

    def types(self) -> list[str]:
        base = self.root / "objects"
        if not base.exists():
            return []
        return sorted(p.name.replace("__", ".") for p in base.iterdir()
                      if any(p.glob("*.parquet")))

    def frame(self, object_type: str, *, include_deleted: bool = False) -> pl.DataFrame:
        """One row per id: the newest (version, source) wins."""
        files = sorted(self._dir(object_type).glob("*.parquet"))
        if not files:
            return pl.DataFrame(schema=SNAPSHOT_SCHEMA)
        frame = (
            pl.scan_parquet(files)
            .sort(["id", "version", "source"])
            .unique(subset="id", keep="last", maintain_order=True)
        )
        if not include_deleted:
            frame = frame.filter(~pl.col("deleted"))
        return frame.collect()

    def count(self, object_type: str) -> int:
        return self.frame(object_type).height

    def compact(self, object_type: str, *, drop_unlisted_before_gen: int | None = None,
                since_version: int = 0) -> int:
        """Merge segments into one file. With ``drop_unlisted_before_gen``: objects that a
        completed full sync of that generation did not list, and that no event touched after
        it started, are dropped (deleted in Stripe, or outside what it can list now)."""
        with self._lock:
            folder = self._dir(object_type)
            files = sorted(folder.glob("*.parquet"))
            if not files:
                return 0
            merged = self.frame(object_type, include_deleted=True)
            if drop_unlisted_before_gen is not None:
                merged = merged.filter(
                    (pl.col("gen") >= drop_unlisted_before_gen)
                    | ((pl.col("source") == EVENT) & (pl.col("version") >= since_version))
                )
            target = folder / f"part-{uuid.uuid4().hex}.parquet"
            tmp = target.with_suffix(".tmp")
            merged.write_parquet(tmp)
            os.replace(tmp, target)
            for f in files:
                f.unlink(missing_ok=True)
            return merged.height


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
