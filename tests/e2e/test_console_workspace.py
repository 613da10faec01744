"""Issue #14 acceptance in a real browser: an engineer records a decision in the engagement
workspace; it appears on the timeline and in the ADR export (page and API agree)."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import expect

from tests.api.api_helpers import bearer, token
from tests.e2e.conftest import log_in


def test_engineer_records_a_decision_seen_on_the_timeline_and_in_the_adrs(api, new_page):
    from tests.api.webhook_helpers import add_engagement

    add_engagement(api.db, api.settings, secrets=())
    page = new_page()
    log_in(page, api.url, token(api.db, "engineer", "ana"), start="/console/workspace/acme")

    form = page.locator("#decision-form")
    form.locator("input[name=title]").fill("Use SEPA Direct Debit for EU customers")
    form.locator("textarea[name=context]").fill("EU B2B customers pay large invoices late.")
    form.locator("textarea[name=decision]").fill("Offer SEPA Direct Debit on every EU invoice.")
    form.locator("textarea[name=alternatives]").fill("Bank transfer only\nCards only")
    form.locator("textarea[name=evidence]").fill("fnd_TEST000001")
    page.click("#record-decision")

    expect(page).to_have_url(re.compile(r"/console/workspace/acme#decision-1$"))
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("decision 1: Use SEPA Direct Debit for EU customers")
    expect(timeline).to_contain_text("user:ana")
    expect(page.locator("#decision-1")).to_contain_text("proposed")

    page.click("#adr-export")
    adr = page.locator("article.adr")
    expect(adr).to_have_count(1)
    expect(adr).to_contain_text("0001-use-sepa-direct-debit-for-eu-customers.md")
    expect(adr).to_contain_text("Offer SEPA Direct Debit on every EU invoice.")
    expect(adr).to_contain_text("- Bank transfer only")
    expect(adr).to_contain_text("- fnd_TEST000001")

    (exported,) = httpx.get(f"{api.url}/workspace/acme/adrs",
                            headers=bearer(api.db, "viewer", "vic")).json()
    assert exported["filename"] == "0001-use-sepa-direct-debit-for-eu-customers.md"
    assert exported["markdown"] in page.locator("article.adr pre").inner_text() + "\n"
