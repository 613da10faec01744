"""The calls a company's code made to Stripe, from a file: OpenTelemetry client spans as an
OTLP JSON export (``.json``, read by `tools.advisor.otlp`), or a flat request log in one
documented format, JSONL or CSV, validated line by line (real Stripe has no API for its
request log, so the engineer exports what their own stack recorded).

JSONL: one object per line. CSV: a header row with the same names. Fields:

    request_id       req_… (required)
    at               unix seconds or ISO 8601 with offset (required)
    method           GET | POST | DELETE (required)
    path             /v1/… without the query string (required)
    query            raw query string, e.g. ``limit=100&expand[]=data.customer`` (optional)
    status           HTTP status (required)
    api_version      the Stripe-Version the request ran with (optional)
    idempotency_key  the Idempotency-Key header, empty when absent (optional)
    account          the Stripe-Account header for Connect calls (optional)

Any other field is an error (a typo would silently drop data otherwise).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from core.errors import ConfigError
from tools.advisor.model import RequestRecord
from tools.advisor.otlp import OTLP_HINT, is_otlp, load_otlp

__all__ = ["CALLS_FILE", "FORMAT_HINT", "calls_path", "load_request_log"]

CALLS_FILE = "stripe-calls.otlp.json"

FORMAT_HINT = ("one request per line with request_id, at, method, path, status (+ optional "
               "query, api_version, idempotency_key, account); see tools/advisor/logfile.py")


def calls_path(data_dir: Path, engagement: str) -> Path:
    """Where an engagement's exported Stripe calls live when ``--log`` is not given."""
    return data_dir / "engagements" / engagement / CALLS_FILE


def load_request_log(path: Path) -> list[RequestRecord]:
    if not path.is_file():
        raise ConfigError(f"request log {path} does not exist",
                          hint="export the calls your code makes to Stripe as OpenTelemetry "
                               "spans (OTLP JSON, .json) or a request log (.jsonl/.csv); "
                               "see tools/advisor/otlp.py")
    if is_otlp(path):
        return load_otlp(path)
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".csv"):
        raise ConfigError(f"request log {path}: unknown format {suffix or '(no extension)'}",
                          hint=f"name the file .json (OTLP: {OTLP_HINT}), .jsonl or .csv; "
                               f"{FORMAT_HINT}")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = _csv_rows(path, handle) if suffix == ".csv" else _jsonl_rows(path, handle)
        records = [_record(path, line, row) for line, row in rows]
    if not records:
        raise ConfigError(f"request log {path} holds no requests", hint=FORMAT_HINT)
    return records


def _jsonl_rows(path: Path, handle: Any):  # noqa: ANN202 - generator of (line, row)
    for line, text in enumerate(handle, start=1):
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"request log {path} line {line}: not JSON ({exc.msg})",
                              hint=FORMAT_HINT) from None
        if not isinstance(row, dict):
            raise ConfigError(f"request log {path} line {line}: expected an object",
                              hint=FORMAT_HINT)
        yield line, row


def _csv_rows(path: Path, handle: Any):  # noqa: ANN202 - generator of (line, row)
    reader = csv.DictReader(handle)
    for row in reader:
        if None in row:
            raise ConfigError(f"request log {path} line {reader.line_num}: more values than "
                              "header columns", hint=FORMAT_HINT)
        # CSV has no null: an empty optional cell means "absent".
        yield reader.line_num, {k: v for k, v in row.items() if v != "" or k == "query"}


def _record(path: Path, line: int, row: dict[str, Any]) -> RequestRecord:
    try:
        return RequestRecord.model_validate(row)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(row)"
        raise ConfigError(
            f"request log {path} line {line}: field {field!r}: {first['msg']}",
            hint=FORMAT_HINT) from None
