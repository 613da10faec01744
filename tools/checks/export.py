"""Delivery evidence a user can hand over as a file (optional; ADR 0005):

- an **attempt export** of their endpoint (what the Dashboard / Workbench shows per event),
  JSONL or CSV, one attempt per line with ``event_id``, ``at`` (unix seconds), ``status``
  (HTTP status, empty when no answer) and optionally ``endpoint_id``, ``attempt``,
  ``error`` (``timeout``, ``connection refused`` …), ``latency_ms``;
- the output of ``stripe listen --print-json``: one event object per line, as the Stripe
  CLI received it — a second endpoint on the same events, like our receiver (what Stripe
  sent), never an answer of the user's endpoint.

Bad lines are an error naming the file, the line and the field.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from core.errors import ConfigError
from tools.checks.context import Delivery

__all__ = ["CLI_LISTENER", "EXPORT_HINT", "Export", "load_delivery_export"]

CLI_LISTENER = "stripe-cli"  # endpoint id of `stripe listen` deliveries (a second endpoint)
EXPORT_HINT = ("one attempt per line (event_id, at, status; optional endpoint_id, attempt, "
               "error, latency_ms) as .jsonl/.csv, or `stripe listen --print-json` output; "
               "see tools/checks/export.py")


class Export:
    """What a file held: attempts of the user's endpoint, and/or events a listener got."""

    def __init__(self, attempts: list[Delivery], listened: list[Delivery]) -> None:
        self.attempts, self.listened = attempts, listened

    @property
    def deliveries(self) -> list[Delivery]:
        return [*self.attempts, *self.listened]


def load_delivery_export(path: Path) -> Export:
    if not path.is_file():
        raise ConfigError(f"delivery export {path} does not exist", hint=EXPORT_HINT)
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".json", ".csv"):
        raise ConfigError(f"delivery export {path}: unknown format {suffix or '(none)'}",
                          hint=EXPORT_HINT)
    attempts: list[Delivery] = []
    listened: list[Delivery] = []
    with path.open(newline="", encoding="utf-8") as handle:
        rows = _csv(handle) if suffix == ".csv" else _jsonl(path, handle)
        for line, row in rows:
            if row.get("object") == "event":
                listened.append(_listened(path, line, row))
            else:
                attempts.append(_attempt(path, line, row))
    if not attempts and not listened:
        raise ConfigError(f"delivery export {path} holds nothing", hint=EXPORT_HINT)
    return Export(attempts, listened)


def _jsonl(path: Path, handle: Any):  # noqa: ANN202 - generator of (line, row)
    for line, text in enumerate(handle, start=1):
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"delivery export {path} line {line}: not JSON ({exc.msg})",
                              hint=EXPORT_HINT) from None
        if not isinstance(row, dict):
            raise ConfigError(f"delivery export {path} line {line}: expected an object",
                              hint=EXPORT_HINT)
        yield line, row


def _csv(handle: Any):  # noqa: ANN202 - generator of (line, row)
    reader = csv.DictReader(handle)
    for row in reader:
        yield reader.line_num, {k: v for k, v in row.items() if v not in ("", None)}


def _attempt(path: Path, line: int, row: dict[str, Any]) -> Delivery:
    unknown = set(row) - set(Delivery.model_fields)
    if unknown:
        raise ConfigError(f"delivery export {path} line {line}: unknown field "
                          f"{sorted(unknown)[0]!r}", hint=EXPORT_HINT)
    if row.get("endpoint_id") in (CLI_LISTENER,):
        raise ConfigError(f"delivery export {path} line {line}: endpoint_id {CLI_LISTENER!r} "
                          "is reserved for `stripe listen` output", hint=EXPORT_HINT)
    try:
        return Delivery.model_validate({"endpoint_id": "export", **row})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(row)"
        raise ConfigError(f"delivery export {path} line {line}: field {field!r}: "
                          f"{first['msg']}", hint=EXPORT_HINT) from None


def _listened(path: Path, line: int, event: dict[str, Any]) -> Delivery:
    if not isinstance(event.get("id"), str) or not isinstance(event.get("created"), int):
        raise ConfigError(f"delivery export {path} line {line}: an event needs id and created",
                          hint=EXPORT_HINT)
    return Delivery(event_id=event["id"], endpoint_id=CLI_LISTENER,
                    account=event.get("account"), status=200, at=event["created"])
