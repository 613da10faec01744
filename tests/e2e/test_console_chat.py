"""The chat page in a real browser: an engineer asks the investigate assistant about an
invoice of a sandbox world; the run page shows each tool call as the stream delivers it and
then the answer, which names the invoice; the conversation continues on the same thread."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.api.api_helpers import bearer, token
from tests.e2e.conftest import TIMEOUT_MS, log_in


def _open_invoice(api, engagement: str) -> str:
    """An invoice the world's FM-15 bug left open locally, from the findings of a triage."""
    engineer = bearer(api.db, "engineer", "intake")
    q = httpx.post(f"{api.url}/triage", headers=engineer, timeout=30, json={
        "ticket": "Some invoices are paid in Stripe but stay open in our system.",
        "engagement": engagement}).json()
    state = httpx.get(f"{api.url}/threads/{q['thread_id']}/runs/{q['run_id']}/join",
                      headers=engineer, timeout=TIMEOUT_MS / 1000 * 2).json()
    ids = state["__interrupt__"][0]["value"]["diagnosis"]["evidence_ids"]
    return next(i for i in ids if i.startswith("in_"))


@pytest.mark.slow
def test_chat_streams_tool_calls_then_the_answer(api, demo_engagement, new_page):
    invoice = _open_invoice(api, demo_engagement)
    page = new_page()
    log_in(page, api.url, token(api.db, "engineer", "ana"), start="/console/chat")
    page.select_option("select[name=engagement]", demo_engagement)
    page.fill("textarea[name=message]", f"why is {invoice} still open?")
    page.click("#ask")

    expect(page).to_have_url(re.compile(r"/console/threads/thr_\w+/runs/run_\w+$"))
    expect(page.locator("#run-status")).to_have_text("success", timeout=TIMEOUT_MS * 2)
    calls = page.locator("#events li.ev-tool_call")
    assert calls.count() >= 1 and calls.first.inner_text().startswith("→ ")
    expect(page.locator("#answer")).to_contain_text(invoice)

    page.click("text=continue the chat")
    expect(page.locator("#conversation")).to_contain_text(f"why is {invoice} still open?")
    expect(page.locator("#conversation .msg-ai")).to_contain_text(invoice)
