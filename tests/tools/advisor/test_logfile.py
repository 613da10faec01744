"""The exported request-log format: JSONL and CSV read the same, bad rows name their line
and field."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from core.errors import ConfigError
from tools.advisor import advise, load_request_log

FIELDS = ("request_id", "at", "method", "path", "query", "status", "api_version",
          "idempotency_key", "account")


def _rows() -> list[dict]:
    """A poller: 8 reads of one invoice every 30 s (ISO times), one POST without a key."""
    rows = [{"request_id": f"req_poll{i}", "at": f"2026-01-05T10:{i // 2:02d}:{(i % 2) * 30:02d}Z",
             "method": "GET", "path": "/v1/invoices/in_1PollMe", "query": "", "status": 200,
             "api_version": "2026-10-28.endive", "idempotency_key": "", "account": ""}
            for i in range(8)]
    rows.append({"request_id": "req_post", "at": "1767607500", "method": "POST",
                 "path": "/v1/refunds", "query": "", "status": 200,
                 "api_version": "2026-10-28.endive", "idempotency_key": "", "account": ""})
    return rows


def _jsonl(path: Path, rows: list[dict]) -> Path:
    cleaned = [{k: v for k, v in r.items() if v != ""} for r in rows]
    path.write_text("\n".join(json.dumps(r) for r in cleaned) + "\n")
    return path


def _csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_jsonl_and_csv_give_the_same_findings(tmp_path: Path):
    from_jsonl = load_request_log(_jsonl(tmp_path / "log.jsonl", _rows()))
    from_csv = load_request_log(_csv(tmp_path / "log.csv", _rows()))
    assert from_jsonl == from_csv
    assert from_jsonl[0].at == 1767607200  # 2026-01-05T10:00:00Z
    advice = advise(from_csv, source="export")
    kinds = {f.kind: f for f in advice.findings}
    assert set(kinds) == {"polling_instead_of_webhooks", "missing_idempotency_key"}
    # 210 s of traffic counts as the 1 h floor: 7 avoidable × 86400 ÷ 3600.
    assert advice.window_seconds == 3600
    assert kinds["polling_instead_of_webhooks"].calls_saved_per_day == 7 * 24


@pytest.mark.parametrize(("row", "needle"), [
    ({"status": "two hundred"}, "line 3: field 'status'"),
    ({"method": "PATCH"}, "line 3: field 'method'"),
    ({"path": "customers"}, "line 3: field 'path'"),
    ({"at": "2026-01-05T10:00:00"}, "line 3: field 'at'"),
    ({"colour": "blue"}, "line 3: field 'colour'"),
])
def test_a_bad_row_names_its_line_and_field(tmp_path: Path, row: dict, needle: str):
    rows = _rows()[:3]
    rows[2] = {**{k: v for k, v in rows[2].items() if v != ""}, **row}
    with pytest.raises(ConfigError) as err:
        load_request_log(_jsonl(tmp_path / "bad.jsonl", rows))
    assert needle in err.value.message and err.value.hint


def test_unreadable_files_are_clear_errors(tmp_path: Path):
    (tmp_path / "log.txt").write_text("x")
    (tmp_path / "broken.jsonl").write_text('{"request_id": "req_1"}\nnot json\n')
    (tmp_path / "empty.csv").write_text(",".join(FIELDS) + "\n")
    cases = {"log.txt": "unknown format", "missing.jsonl": "does not exist",
             "broken.jsonl": "line 1: field 'at'", "empty.csv": "holds no requests"}
    for name, needle in cases.items():
        with pytest.raises(ConfigError, match=needle):
            load_request_log(tmp_path / name)
