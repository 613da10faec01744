"""OTLP JSON trace exports as the advisor's input: spans written by hand the way the
OpenTelemetry Collector's file exporter writes them (new and old HTTP semantic conventions,
captured headers as string arrays), other hosts and server spans ignored, bad spans named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import ConfigError
from tools.advisor import advise, load_request_log

T0 = 1_767_600_000


def _attr(key: str, value: object) -> dict:
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, list):
        return {"key": key, "value": {"arrayValue": {"values": [{"stringValue": v}
                                                                for v in value]}}}
    return {"key": key, "value": {"stringValue": value}}


def _span(i: int, url: str, *, method: str = "GET", status: int = 200, at: int = T0,
          old: bool = False, kind: int = 3, headers: dict | None = None) -> dict:
    names = (("http.method", "http.url", "http.status_code") if old else
             ("http.request.method", "url.full", "http.response.status_code"))
    attrs = [_attr(names[0], method), _attr(names[1], url), _attr(names[2], status)]
    attrs += [_attr(k, v) for k, v in (headers or {}).items()]
    return {"traceId": f"{i:032x}", "spanId": f"{i:016x}", "name": method, "kind": kind,
            "startTimeUnixNano": str(at * 1_000_000_000),
            "endTimeUnixNano": str(at * 1_000_000_000 + 90_000_000), "attributes": attrs}


def _export(spans: list[dict]) -> dict:
    return {"resourceSpans": [{"resource": {"attributes": [_attr("service.name", "shop")]},
                               "scopeSpans": [{"scope": {"name": "httpx"}, "spans": spans}]}]}


def _write(path: Path, *exports: dict) -> Path:
    path.write_text("\n".join(json.dumps(e) for e in exports) + "\n")
    return path


def test_client_spans_to_stripe_become_requests_and_advice(tmp_path):
    polls = [_span(i, "https://api.stripe.com/v1/invoices/in_1PollMe", at=T0 + 30 * i,
                   old=i % 2 == 1,
                   headers={"http.response.header.request_id": [f"req_poll{i}"],
                            "http.request.header.stripe_version": ["2026-10-28.endive"]})
             for i in range(8)]
    post = _span(20, "https://api.stripe.com/v1/refunds", method="POST", at=T0 + 300)
    other_host = _span(21, "https://hooks.slack.com/services/x", method="POST", at=T0 + 301)
    server = _span(22, "https://api.stripe.com/v1/refunds", method="POST", kind=2)
    listed = _span(23, "https://api.stripe.com/v1/customers?limit=100&email=a%40b.c",
                   at=T0 + 302, headers={"http.request.header.stripe_account": ["acct_1X"],
                                         "http.request.header.idempotency_key": ["k1"]})
    path = _write(tmp_path / "calls.json", _export(polls[:5]),
                  _export([*polls[5:], post, other_host, server, listed]))
    records = load_request_log(path)
    assert [r.request_id for r in records[:8]] == [f"req_poll{i}" for i in range(8)]
    assert len(records) == 10  # the Slack call and the server span are not calls to Stripe
    refund = next(r for r in records if r.path == "/v1/refunds")
    assert refund.request_id == f"span_{20:016x}" and refund.idempotency_key is None
    customers = records[-1]
    assert (customers.query, customers.account, customers.idempotency_key) == (
        "limit=100&email=a%40b.c", "acct_1X", "k1")
    kinds = {f.kind for f in advise(records, source=str(path)).findings}
    assert {"polling_instead_of_webhooks", "missing_idempotency_key"} <= kinds


def test_one_pretty_printed_export_request_reads_too(tmp_path):
    path = tmp_path / "one.json"
    path.write_text(json.dumps(_export([_span(1, "https://api.stripe.com/v1/balance")]),
                               indent=2))
    (record,) = load_request_log(path)
    assert (record.method, record.path, record.status, record.at) == (
        "GET", "/v1/balance", 200, T0)


@pytest.mark.parametrize("doc,message", [
    ("{not json", "line 1: not JSON"),
    ('{"spans": []}', "line 1: no resourceSpans list"),
])
def test_a_file_that_is_not_an_export_names_its_line(tmp_path, doc, message):
    path = tmp_path / "bad.json"
    path.write_text(doc + "\n")
    with pytest.raises(ConfigError, match=message) as info:
        load_request_log(path)
    assert "api.stripe.com" in (info.value.hint or "")


def test_a_stripe_span_without_a_status_names_the_span(tmp_path):
    span = _span(7, "https://api.stripe.com/v1/customers")
    span["attributes"] = [a for a in span["attributes"]
                          if a["key"] != "http.response.status_code"]
    path = _write(tmp_path / "calls.json", _export([span]))
    with pytest.raises(ConfigError, match=rf"line 1 span {7:016x}: missing status"):
        load_request_log(path)


def test_an_export_without_calls_to_stripe_is_an_error(tmp_path):
    path = _write(tmp_path / "calls.json",
                  _export([_span(1, "https://example.com/v1/customers")]))
    with pytest.raises(ConfigError, match="no client spans to api.stripe.com"):
        load_request_log(path)
