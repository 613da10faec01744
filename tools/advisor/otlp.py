"""The user's own outbound-call telemetry: OpenTelemetry HTTP client spans to Stripe, as an
OTLP JSON export (what the Collector's ``file`` exporter writes, or one
``ExportTraceServiceRequest`` saved as JSON). Stripe does not serve its request log over the
API; the calls a company's code makes are visible in its own traces.

Produce it from the user's stack (Python shown; every OTel SDK has an HTTP client
instrumentation):

    pip install opentelemetry-sdk opentelemetry-instrumentation-requests   # or -httpx
    # stripe-python uses requests when installed, else httpx
    OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_REQUEST="idempotency-key,stripe-version,stripe-account"
    OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_RESPONSE="request-id,stripe-version"
    RequestsInstrumentor().instrument()    # HTTPXClientInstrumentor().instrument()

and export the spans with the OTLP exporter to a Collector whose ``file`` exporter writes
``path: stripe-calls.otlp.json`` (format json). Each line of that file is one export request.

What is read from each CLIENT span whose URL host is ``api.stripe.com`` (or ``--host``):
method (``http.request.method`` / old ``http.method``), URL (``url.full`` / ``http.url``),
status (``http.response.status_code`` / ``http.status_code``), start time, and the captured
headers above (``http.request.header.idempotency_key`` …); the request id falls back to the
span id when the response header was not captured. Spans to other hosts are ignored; a span
to the host that lacks a method, URL or status is an error naming its line and span.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from core.errors import ConfigError
from tools.advisor.model import RequestRecord

__all__ = ["OTLP_HINT", "STRIPE_HOST", "is_otlp", "load_otlp"]

STRIPE_HOST = "api.stripe.com"
OTLP_HINT = ("an OTLP JSON trace export ({\"resourceSpans\": [...]}, one export request per "
             "line) of HTTP client spans to api.stripe.com; see tools/advisor/otlp.py")
_SPAN_KIND_CLIENT = (3, "SPAN_KIND_CLIENT")
_METHOD = ("http.request.method", "http.method")
_URL = ("url.full", "http.url")
_STATUS = ("http.response.status_code", "http.status_code")


def is_otlp(path: Path) -> bool:
    """A ``.json`` file is read as OTLP (``.jsonl``/``.csv`` are the flat request log)."""
    return path.suffix.lower() == ".json"


def load_otlp(path: Path, *, hosts: tuple[str, ...] = (STRIPE_HOST,)) -> list[RequestRecord]:
    if not path.is_file():
        raise ConfigError(f"trace export {path} does not exist", hint=OTLP_HINT)
    records: list[RequestRecord] = []
    for line, doc in _documents(path):
        for span in _spans(path, line, doc):
            record = _record(path, line, span, hosts)
            if record is not None:
                records.append(record)
    if not records:
        raise ConfigError(f"trace export {path} holds no client spans to {', '.join(hosts)}",
                          hint=OTLP_HINT)
    records.sort(key=lambda r: r.at)  # stable: calls in one second keep the file order
    return records


def _documents(path: Path):  # noqa: ANN202 - generator of (line, export request)
    text = path.read_text(encoding="utf-8")
    try:  # one pretty-printed export request
        yield 1, json.loads(text)
        return
    except json.JSONDecodeError:
        pass
    for line, row in enumerate(text.splitlines(), start=1):  # the Collector's JSON lines
        if not row.strip():
            continue
        try:
            yield line, json.loads(row)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"trace export {path} line {line}: not JSON ({exc.msg})",
                              hint=OTLP_HINT) from None


def _spans(path: Path, line: int, doc: Any):  # noqa: ANN202 - generator of span dicts
    if not isinstance(doc, dict) or not isinstance(doc.get("resourceSpans"), list):
        raise ConfigError(f"trace export {path} line {line}: no resourceSpans list",
                          hint=OTLP_HINT)
    for resource in doc["resourceSpans"]:
        for scope in (resource or {}).get("scopeSpans") or []:
            for span in (scope or {}).get("spans") or []:
                if isinstance(span, dict):
                    yield span


def _attrs(span: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for attr in span.get("attributes") or []:
        value = (attr or {}).get("value") or {}
        if "arrayValue" in value:  # captured headers are string arrays
            items = [_scalar(v) for v in (value["arrayValue"].get("values") or [])]
            out[attr.get("key")] = items[0] if items else None
        else:
            out[attr.get("key")] = _scalar(value)
    return out


def _scalar(value: dict[str, Any]) -> Any:
    for kind in ("stringValue", "intValue", "boolValue", "doubleValue"):
        if kind in value:
            return int(value[kind]) if kind == "intValue" else value[kind]
    return None


def _first(attrs: dict[str, Any], names: tuple[str, ...]) -> Any:
    return next((attrs[n] for n in names if attrs.get(n) is not None), None)


def _record(path: Path, line: int, span: dict[str, Any], hosts: tuple[str, ...]
            ) -> RequestRecord | None:
    attrs = _attrs(span)
    url = _first(attrs, _URL)
    if not url or urlsplit(str(url)).hostname not in hosts:
        return None
    if span.get("kind") not in (*_SPAN_KIND_CLIENT, None):
        return None  # a server span that happens to carry the URL (a proxy) is not a call
    where = f"trace export {path} line {line} span {span.get('spanId') or '?'}"
    method, status = _first(attrs, _METHOD), _first(attrs, _STATUS)
    start = span.get("startTimeUnixNano")
    if method is None or status is None or start is None:
        missing = [n for n, v in (("method", method), ("status", status),
                                  ("startTimeUnixNano", start)) if v is None]
        raise ConfigError(f"{where}: missing {', '.join(missing)}", hint=OTLP_HINT)
    parts = urlsplit(str(url))
    request_id = attrs.get("http.response.header.request_id") or (
        f"span_{span.get('spanId') or line}")
    try:
        return RequestRecord(
            request_id=str(request_id), at=int(start) // 1_000_000_000,
            method=str(method).upper(), path=parts.path, query=parts.query,
            status=int(status),
            api_version=attrs.get("http.request.header.stripe_version")
            or attrs.get("http.response.header.stripe_version"),
            idempotency_key=attrs.get("http.request.header.idempotency_key") or None,
            account=attrs.get("http.request.header.stripe_account") or None)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(span)"
        raise ConfigError(f"{where}: field {field!r}: {first['msg']}", hint=OTLP_HINT) from None
    except ValueError as exc:  # a status or time that is not a number
        raise ConfigError(f"{where}: {exc}", hint=OTLP_HINT) from None
