"""Issue #10 acceptance in a real browser: an engineer logs in, opens an escalation raised
by a triage run on a sandbox world, approves it and watches the resumed run finish on its
page; a viewer can read an escalation but approving it answers 403 and changes nothing."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.agents.tickets import TICKETS
from tests.api.api_helpers import bearer, token
from tests.api.probe_graph import HITL_SPEC
from tests.e2e.conftest import TIMEOUT_MS, log_in


def _escalate_by_triage(api, engagement: str) -> dict:
    engineer = bearer(api.db, "engineer", "intake")
    queued = httpx.post(f"{api.url}/triage", headers=engineer, timeout=30,
                        json={"ticket": TICKETS["FM-15"], "engagement": engagement})
    assert queued.status_code == 202, queued.text
    q = queued.json()
    state = httpx.get(f"{api.url}/threads/{q['thread_id']}/runs/{q['run_id']}/join",
                      headers=engineer, timeout=TIMEOUT_MS / 1000 * 2).json()
    assert state["__interrupt__"], state.get("status")
    (esc,) = [e for e in httpx.get(f"{api.url}/escalations", headers=engineer).json()
              if e["thread_id"] == q["thread_id"]]
    return esc


@pytest.mark.slow
def test_engineer_approves_an_escalation_and_sees_the_run_finish(api, demo_engagement,
                                                                new_page):
    esc = _escalate_by_triage(api, demo_engagement)
    page = new_page()
    log_in(page, api.url, token(api.db, "engineer", "ana"))
    expect(page.locator("#whoami")).to_have_text("ana (engineer)")

    page.select_option("select[name=engagement]", demo_engagement)
    page.click("text=Filter")
    page.click(f"a[href='/console/escalations/{esc['id']}']")
    expect(page.locator("#diagnosis-title")).to_contain_text("FM-15")
    evidence = page.locator("#evidence li")
    assert evidence.count() >= 1
    assert any(t.startswith("in_") for t in evidence.all_inner_texts())
    expect(page.locator("#esc-status")).to_have_text("open")

    page.fill("#option-confirm_diagnosis input[name=message]", "agreed, from the console")
    page.click("#approve-confirm_diagnosis")
    expect(page).to_have_url(re.compile(rf"/console/threads/{esc['thread_id']}/runs/run_\w+$"))
    # the status flips when the page's EventSource receives the resumed run's `end`
    expect(page.locator("#run-status")).to_have_text("success", timeout=TIMEOUT_MS * 2)
    expect(page.locator("#events")).to_contain_text("run ended: success")
    expect(page.locator("#events")).to_contain_text("node ")

    page.goto(f"{api.url}/console/escalations/{esc['id']}")
    expect(page.locator("#esc-decision")).to_contain_text("approve confirm_diagnosis by user:ana")
    viewer = bearer(api.db, "viewer", "check")
    decided = httpx.get(f"{api.url}/escalations/{esc['id']}", headers=viewer).json()
    assert decided["status"] == "decided" and decided["decided_by"] == "user:ana"
    assert decided["decision"]["message"] == "agreed, from the console"
    state = httpx.get(f"{api.url}/threads/{esc['thread_id']}/state", headers=viewer).json()
    assert state["values"]["status"] == "resolved_by_engineer" and not state["interrupts"]


@pytest.mark.parametrize("api", [{"api_graphs": HITL_SPEC}], indirect=True)
def test_a_viewer_cannot_approve(api, new_page, tmp_path):
    from tests.api.test_console_pages import escalate
    from tests.api.webhook_helpers import add_engagement

    add_engagement(api.db, api.settings, secrets=())
    esc = escalate(api, tmp_path, amount=1_500)
    page = new_page()
    start = f"/console/escalations/{esc['id']}"
    log_in(page, api.url, token(api.db, "viewer", "vic"), start=start)
    expect(page.locator("#viewer-note")).to_be_visible()
    expect(page.locator("#money-impact")).to_contain_text("15.00 EUR")

    with page.expect_response(re.compile(r"/decide$")) as answer:
        page.click("#approve-credit_customer_balance")
    assert answer.value.status == 403
    expect(page.locator("#error-status")).to_contain_text("403")
    expect(page.locator("#error-message")).to_contain_text("needs the engineer role")

    after = httpx.get(f"{api.url}/escalations/{esc['id']}",
                      headers=bearer(api.db, "viewer", "check")).json()
    assert after["status"] == "open" and after["decision"] is None and not after["approvals"]
    assert not (tmp_path / "applied").exists()
