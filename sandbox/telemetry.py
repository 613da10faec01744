"""What a company's instrumented HTTP client would have exported, for the sandbox: the
replica's own request log read over its admin endpoint (tests and ground truth only — Stripe
has no such API), and calls written as an OTLP JSON trace export, one CLIENT span per call
to ``api.stripe.com``, the shape `tools.advisor.otlp` reads from a real stack.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx

from core.errors import ConfigError
from tools.advisor.model import RequestRecord

__all__ = ["fetch_request_log", "otlp_export", "write_otlp"]

API_HOST = "https://api.stripe.com"


def fetch_request_log(base_url: str, *, timeout: float = 30.0) -> list[RequestRecord]:
    """The replica's request log (``GET /_replica/requests?detail=1&since_seq=N``)."""
    records: list[RequestRecord] = []
    since = 0
    with httpx.Client(base_url=base_url, timeout=timeout) as http:
        while True:
            try:
                answer = http.get("/_replica/requests", params={"detail": 1, "since_seq": since})
            except httpx.HTTPError as exc:
                raise ConfigError(f"cannot read the request log at {base_url}: {exc}",
                                  hint="start the replica (`fde sandbox up`)") from None
            answer.raise_for_status()
            page = answer.json().get("entries", [])
            if not page:
                return records
            records.extend(_record(row) for row in page)
            since = page[-1]["seq"]


def _record(row: dict) -> RequestRecord:
    return RequestRecord(
        request_id=row["request_id"], at=row["at"], method=row["method"], path=row["path"],
        query=row.get("query") or "", status=row["status"], api_version=row.get("api_version"),
        idempotency_key=row.get("idempotency_key"), account=row.get("account"))


def _string(key: str, value: str) -> dict[str, Any]:
    return {"key": key, "value": {"stringValue": value}}


def _header(key: str, value: str) -> dict[str, Any]:
    return {"key": key, "value": {"arrayValue": {"values": [{"stringValue": value}]}}}


def _span(r: RequestRecord, latency_ms: int) -> dict[str, Any]:
    digest = hashlib.sha256(r.request_id.encode()).hexdigest()
    url = f"{API_HOST}{r.path}" + (f"?{r.query}" if r.query else "")
    attrs = [_string("http.request.method", r.method), _string("url.full", url),
             _string("server.address", "api.stripe.com"),
             {"key": "http.response.status_code", "value": {"intValue": str(r.status)}},
             _header("http.response.header.request_id", r.request_id)]
    if r.idempotency_key:
        attrs.append(_header("http.request.header.idempotency_key", r.idempotency_key))
    if r.api_version:
        attrs.append(_header("http.request.header.stripe_version", r.api_version))
    if r.account:
        attrs.append(_header("http.request.header.stripe_account", r.account))
    start = r.at * 1_000_000_000
    return {"traceId": digest[:32], "spanId": digest[32:48], "name": r.method, "kind": 3,
            "startTimeUnixNano": str(start),
            "endTimeUnixNano": str(start + latency_ms * 1_000_000),
            "attributes": attrs, "status": {"code": 2 if r.status >= 500 else 0}}


def otlp_export(records: Iterable[RequestRecord], *, service: str = "company-app"
                ) -> dict[str, Any]:
    """One ``ExportTraceServiceRequest`` (JSON mapping) holding a span per call."""
    spans = [_span(r, 80 + i % 170) for i, r in enumerate(records)]
    return {"resourceSpans": [{
        "resource": {"attributes": [_string("service.name", service)]},
        "scopeSpans": [{"scope": {"name": "opentelemetry.instrumentation.requests"},
                        "spans": spans}]}]}


def write_otlp(records: Iterable[RequestRecord], path: Path, *, batch: int = 500) -> Path:
    """The Collector's file exporter layout: one export request per line."""
    rows = list(records)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for i in range(0, len(rows), batch):
            out.write(json.dumps(otlp_export(rows[i:i + batch]), separators=(",", ":")) + "\n")
    return path
