"""The advisor over a real replica's request log: a client with known inefficiencies gets
each one found with the calls-saved figure computed here by hand from what it sent; a
well-behaved client gets nothing."""

from __future__ import annotations

import httpx
import pytest
import stripe

from sandbox.telemetry import fetch_request_log, write_otlp
from tools.advisor import advise, load_request_log

OLD_VERSION = "2024-06-20"
DAY = 86_400


class Clock:
    """Drives the replica's frozen clock to offsets from the start of the scenario."""

    def __init__(self, admin) -> None:
        self.admin = admin
        self.t0 = admin.now()
        admin.set_clock(self.t0, freeze=True)

    def to(self, offset: int) -> None:
        gap = self.t0 + offset - self.admin.now()
        if gap:
            self.admin.advance_clock(gap)


def _per_day(avoidable: int, window: int) -> int:
    return avoidable * DAY // window


@pytest.fixture
def raw_http(replica):
    """A hand-rolled HTTP client: no idempotency keys, an older pinned API version."""
    with httpx.Client(base_url=replica.url, auth=(replica.api_key, ""), timeout=30,
                      headers={"Stripe-Version": OLD_VERSION}) as http:
        yield http


def test_each_inefficiency_is_found_with_its_calls_saved(replica, raw_http, tmp_path):
    client, admin = replica.client(), replica.admin
    intent = client.v1.payment_intents.create(params={"amount": 5000, "currency": "usd"})
    customers = [client.v1.customers.create(params={"email": f"c{i}@example.com"})
                 for i in range(20)]
    for c in customers:
        client.v1.invoices.create(params={"customer": c.id})
    admin.clear_requests()
    clock = Clock(admin)

    # 60 polls of one PaymentIntent, every 10 s.
    for i in range(60):
        clock.to(i * 10)
        client.v1.payment_intents.retrieve(intent.id)
    # A list of 20 invoices, then one customer retrieve per invoice.
    clock.to(600)
    invoices = client.v1.invoices.list(params={"limit": 100})
    assert len(invoices.data) == 20
    clock.to(601)
    for inv in invoices.data:
        client.v1.customers.retrieve(inv.customer)
    # 5 creates without Idempotency-Key on an older API version, then a search for one.
    clock.to(900)
    for i in range(5):
        raw_http.post("/v1/customers", data={"email": f"new{i}@example.com"}).raise_for_status()
    clock.to(905)
    # The replica does not implement search (it answers 404); the log records the call,
    # which is all the advisor reads.
    raw_http.get("/v1/customers/search", params={"query": "email:'new4@example.com'"})
    # Paging through every customer with the default page size (no limit).
    clock.to(1000)
    pages, page = 1, client.v1.customers.list()
    while page.has_more:
        page = client.v1.customers.list(params={"starting_after": page.data[-1].id})
        pages += 1
    # A burst of four 429s.
    clock.to(7200)
    admin.add_fault(path="/v1/balance", kind="rate_limit", count=4)
    for _ in range(4):
        with pytest.raises(stripe.RateLimitError):
            client.v1.balance.retrieve()

    advice = advise(fetch_request_log(replica.url), source="replica")
    # the same calls as the company's OpenTelemetry client spans give the same advice
    spans = write_otlp(fetch_request_log(replica.url), tmp_path / "calls.otlp.json", batch=40)
    assert advise(load_request_log(spans), source="replica") == advice
    window = 7200
    assert advice.window_seconds == window and advice.requests == 60 + 1 + 20 + 5 + 1 + pages + 4
    found = {f.kind: f for f in advice.findings}
    assert set(found) == {"polling_instead_of_webhooks", "n_plus_one_retrieves",
                          "list_without_limit", "missing_idempotency_key", "rate_limit_burst",
                          "search_read_after_write", "api_version_spread"}

    poll = found["polling_instead_of_webhooks"]
    assert (poll.calls_observed, poll.avoidable_calls) == (60, 59)
    assert poll.calls_saved_per_day == _per_day(59, window) == 708
    assert f"/v1/payment_intents/{intent.id}: 60 calls every ~10 s" in " ".join(poll.evidence)

    n1 = found["n_plus_one_retrieves"]
    assert (n1.calls_observed, n1.avoidable_calls) == (21, 20)
    assert n1.calls_saved_per_day == _per_day(20, window) == 240
    assert any("expand[]=data.customer" in e for e in n1.evidence)

    paging = found["list_without_limit"]
    expected_pages_needed = max(1, -(-pages * 10 // 100))
    assert pages == 3  # 25 customers, 10 a page
    assert paging.calls_observed == pages
    assert paging.avoidable_calls == pages - expected_pages_needed == 2
    assert paging.calls_saved_per_day == _per_day(2, window)

    idem = found["missing_idempotency_key"]
    assert (idem.calls_observed, idem.avoidable_calls, idem.calls_saved_per_day) == (5, 0, 0)
    assert "POST /v1/customers: 5" in idem.evidence

    search = found["search_read_after_write"]
    assert (search.calls_observed, search.avoidable_calls) == (1, 1)
    assert search.calls_saved_per_day == _per_day(1, window) == 12

    burst = found["rate_limit_burst"]
    assert (burst.calls_observed, burst.avoidable_calls) == (4, 4)
    assert burst.calls_saved_per_day == _per_day(4, window) == 48

    versions = found["api_version_spread"]
    assert versions.calls_observed == 6 and versions.calls_saved_per_day == 0
    assert f"{OLD_VERSION}: 6 request(s)" in versions.evidence
    assert f"{stripe.api_version}: {advice.requests - 6} request(s)" in versions.evidence
    for f in advice.findings:
        assert f.evidence and f.explanation and f.fix
        assert f.formula.endswith(f"= {f.calls_saved_per_day}/day")


def test_a_well_behaved_client_gets_no_findings(replica):
    client, admin = replica.client(), replica.admin
    clock = Clock(admin)
    client.v1.webhook_endpoints.create(params={
        "url": "https://example.com/hooks", "enabled_events": ["payment_intent.succeeded",
                                                              "invoice.paid"]})
    clock.to(13)
    customers = [client.v1.customers.create(params={"email": f"ok{i}@example.com"},
                                            options={"idempotency_key": f"cust-ok-{i}"})
                 for i in range(3)]
    clock.to(47)
    for c in customers:
        client.v1.invoices.create(params={"customer": c.id},
                                  options={"idempotency_key": f"inv-{c.id}"})
    intent = client.v1.payment_intents.create(params={"amount": 1200, "currency": "eur"},
                                              options={"idempotency_key": "order-1"})
    clock.to(400)
    invoices = client.v1.invoices.list(params={"limit": 100, "expand": ["data.customer"]})
    assert {inv.customer.id for inv in invoices.data} == {c.id for c in customers}
    clock.to(1300)
    seen = list(client.v1.customers.list(params={"limit": 100}).auto_paging_iter())
    assert len(seen) == 3
    clock.to(2100)  # "after the webhook arrived": one read
    client.v1.payment_intents.retrieve(intent.id)
    clock.to(2100 + 7200)  # search only for look-ups that tolerate the lag
    httpx.get(f"{replica.url}/v1/customers/search", auth=(replica.api_key, ""),
              params={"query": "email:'ok1@example.com'"},
              headers={"Stripe-Version": stripe.api_version})  # replica answers 404: no search

    advice = advise(fetch_request_log(replica.url), source="replica")
    assert advice.requests == 1 + 3 + 3 + 1 + 1 + 1 + 1 + 1
    assert advice.findings == []
