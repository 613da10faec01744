"""A corpus: the Stripe events a shadow run replays, in the order Stripe created them.

Stored as JSON Lines (one event per line). Its content hash (sha256 over the canonical JSON
of the events, in order) names it in reports, so two runs on the same hash replayed the same
bytes. Recorded from an account through the events API (`record_corpus`) or written by a
scenario script.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from tools.shadow.errors import CorpusError
from tools.stripe.gateway import StripeGateway

__all__ = ["Corpus", "load_corpus", "record_corpus", "save_corpus"]

Event = dict[str, Any]


def _canonical(event: Event) -> str:
    return json.dumps(event, sort_keys=True, separators=(",", ":"))


class Corpus(BaseModel):
    model_config = ConfigDict(frozen=True)

    events: tuple[dict[str, Any], ...]
    source: str = ""

    @cached_property
    def hash(self) -> str:
        digest = hashlib.sha256()
        for event in self.events:
            digest.update(_canonical(event).encode())
            digest.update(b"\n")
        return "sha256:" + digest.hexdigest()

    @cached_property
    def api_version(self) -> str | None:
        versions = {e.get("api_version") for e in self.events if e.get("api_version")}
        return ", ".join(sorted(versions)) or None

    def __len__(self) -> int:
        return len(self.events)


def _check(event: Any, where: str) -> Event:
    if not isinstance(event, dict):
        raise CorpusError(f"{where}: expected a JSON object (a Stripe event), got "
                          f"{type(event).__name__}")
    missing = [k for k in ("id", "type", "created", "data") if k not in event]
    if missing or not isinstance(event.get("data"), dict) or "object" not in event["data"]:
        raise CorpusError(f"{where}: not a Stripe event (missing "
                          f"{', '.join(missing) or 'data.object'})")
    return event


def load_corpus(path: str | Path) -> Corpus:
    """Read a JSON Lines corpus; any bad line is named with its number."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise CorpusError(f"corpus file {path} does not exist") from None
    events: list[Event] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{path} line {number}: not valid JSON ({exc.msg} at column "
                              f"{exc.colno})") from None
        events.append(_check(raw, f"{path} line {number}"))
    if not events:
        raise CorpusError(f"corpus file {path} holds no events")
    return Corpus(events=tuple(events), source=str(path))


def save_corpus(corpus: Corpus, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(_canonical(e) + "\n" for e in corpus.events))
    return path


def _ordered(events: Iterable[Event]) -> list[Event]:
    # The events API lists newest first; same-second events keep the API's relative order.
    listed = list(events)
    listed.reverse()
    return sorted(listed, key=lambda e: int(e["created"]))


def record_corpus(
    gateways: Sequence[StripeGateway], *, types: list[str] | None = None,
    since: int | None = None, until: int | None = None, source: str = "events API",
) -> Corpus:
    """Record events through the events API (one gateway per account: the platform and any
    connected account, whose events are only listed with its ``Stripe-Account``).

    Stripe keeps events for 30 days; older history needs a scenario script instead.
    """
    params: dict[str, Any] = {}
    if types:
        params["types"] = types
    created: dict[str, int] = {}
    if since is not None:
        created["gte"] = since
    if until is not None:
        created["lte"] = until
    if created:
        params["created"] = created
    events: list[Event] = []
    for gateway in gateways:
        events += _ordered(gateway.list_all("/v1/events", params))
    merged = sorted(events, key=lambda e: int(e["created"]))  # stable: per-account order kept
    if not merged:
        raise CorpusError("the events API returned no events for this window",
                          hint="widen --since/--until or check the account has activity")
    return Corpus(events=tuple(merged), source=source)
