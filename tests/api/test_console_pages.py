"""The console's pages over HTTP (real uvicorn, no browser): the session cookie's flags and
contents, login failures, CSRF and role refusals that leave the escalation untouched, the
two-approver rule through the forms, bad input named on an error page, and the report
pages over stored maps, recon and shadow runs and signals."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest

from tests.api.api_helpers import bearer, token
from tests.api.probe_graph import HITL_SPEC

HITL = pytest.mark.parametrize("api", [{"api_graphs": HITL_SPEC,
                                        "api_two_approver_major": 100}], indirect=True)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def login(api, role: str, name: str | None = None) -> tuple[httpx.Client, str]:
    """A browser-like client with a console session; returns it and its CSRF token."""
    raw = token(api.db, role, name)
    client = httpx.Client(base_url=api.url, timeout=30)
    form = client.get("/console/login")
    got = client.post("/console/login", data={"token": raw, "next": "/console/",
                                              "csrf": _csrf(form.text)})
    assert got.status_code == 303 and got.headers["location"] == "/console/"
    home = client.get("/console/")
    assert home.status_code == 200
    return client, _csrf(home.text)


def escalate(api, tmp_path, amount: int) -> dict:
    """A paused probe_hitl run with one money action of `amount` eur cents → its escalation."""
    engineer = bearer(api.db, "engineer", "runner")
    tid = httpx.post(f"{api.url}/threads", json={}, headers=engineer).json()["thread_id"]
    run = httpx.post(f"{api.url}/threads/{tid}/runs", headers=engineer, json={
        "assistant_id": "probe_hitl", "input": {"amount": amount, "engagement": "acme",
                                                "out": str(tmp_path / "applied")}}).json()
    httpx.get(f"{api.url}/threads/{tid}/runs/{run['run_id']}/join", headers=engineer,
              timeout=60)
    (esc,) = [e for e in httpx.get(f"{api.url}/escalations", headers=engineer).json()
              if e["thread_id"] == tid]
    return esc


def status_of(api, escalation_id: str) -> str:
    return httpx.get(f"{api.url}/escalations/{escalation_id}",
                     headers=bearer(api.db, "viewer", f"v-{escalation_id[-6:]}")).json()["status"]


def test_login_sets_a_sealed_strict_cookie_and_pages_need_it(api):
    anonymous = httpx.get(f"{api.url}/console/escalations/esc_x")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/console/login?next=/console/escalations/esc_x"

    browser = httpx.Client(base_url=api.url, timeout=30)
    form = _csrf(browser.get("/console/login").text)
    bad = browser.post("/console/login", data={"token": "fde_not-a-token", "csrf": form})
    assert bad.status_code == 401 and "unknown or revoked" in bad.text
    assert "fde_console=" not in bad.headers.get("set-cookie", "")

    raw = token(api.db, "engineer", "ana")
    form = _csrf(browser.get("/console/login").text)
    got = browser.post("/console/login",
                       data={"token": raw, "next": "https://evil.example/", "csrf": form})
    assert got.headers["location"] == "/console/"  # no open redirect
    cookie = next(c for c in got.headers.get_list("set-cookie")
                  if c.startswith("fde_console="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    value = cookie.split(";")[0].split("=", 1)[1]
    assert raw not in value and raw[4:] not in value  # the token never goes to the browser

    client, csrf = login(api, "engineer", "bea")
    home = client.get("/console/")
    assert "bea (engineer)" in home.text
    assert "default-src 'self'" in home.headers["content-security-policy"]
    assert client.post("/console/logout", data={"csrf": csrf}).status_code == 303
    assert client.get("/console/").status_code == 303  # the cookie is gone

    # a tampered cookie is no session
    forged = httpx.get(f"{api.url}/console/", cookies={"fde_console": value[:-4] + "AAAA"})
    assert forged.status_code == 303


def test_login_form_needs_its_csrf_token(api):
    raw = token(api.db, "admin", "ada")
    anywhere = httpx.post(f"{api.url}/console/login", data={"token": raw})
    assert anywhere.status_code == 403 and "CSRF" in anywhere.text
    assert "fde_console=" not in anywhere.headers.get("set-cookie", "")
    browser = httpx.Client(base_url=api.url, timeout=30)
    browser.get("/console/login")  # the cookie half, but a forged field
    forged = browser.post("/console/login", data={"token": raw, "csrf": "guessed"})
    assert forged.status_code == 403 and "fde_console=" not in forged.headers.get(
        "set-cookie", "")
    assert browser.get("/console/").status_code == 303  # no session came of either


def test_logout_ends_the_session_server_side(api):
    client, csrf = login(api, "viewer", "vic")
    copied = client.cookies["fde_console"]
    thief = httpx.Client(base_url=api.url, timeout=30, cookies={"fde_console": copied})
    assert thief.get("/console/").status_code == 200  # a copied cookie works while logged in
    assert client.post("/console/logout", data={"csrf": csrf}).status_code == 303
    assert thief.get("/console/").status_code == 303  # and not after logout
    assert thief.post("/console/logout", data={"csrf": csrf}).status_code == 303


def test_revoking_the_token_ends_its_console_session(api):
    from api.tables import tokens

    client, _ = login(api, "viewer", "vic")
    with api.db.session() as session:
        session.execute(tokens.update().where(tokens.c.name == "vic")
                        .values(revoked_at=datetime.now(UTC)))
    assert client.get("/console/").status_code == 303


@HITL
def test_forms_refuse_missing_csrf_and_weak_roles_then_two_approvers_decide(api, tmp_path):
    from tests.api.webhook_helpers import add_engagement

    add_engagement(api.db, api.settings, secrets=())
    esc = escalate(api, tmp_path, amount=25_000)  # EUR 250.00 > EUR 100: two approvers
    url = f"/console/escalations/{esc['id']}"
    approve = {"type": "approve", "action": "credit_customer_balance", "message": "ok"}

    viewer, viewer_csrf = login(api, "viewer", "vic")
    page = viewer.get(url)
    assert page.status_code == 200
    assert "250.00 EUR" in page.text and "25000 minor units" in page.text
    assert "credit_customer_balance" in page.text and "cus_PROBE1234" in page.text
    refused = viewer.post(f"{url}/decide", data={**approve, "csrf": viewer_csrf})
    assert refused.status_code == 403 and "needs the engineer role" in refused.text

    engineer, csrf = login(api, "engineer", "eng")
    no_token = engineer.post(f"{url}/decide", data=approve)
    assert no_token.status_code == 403 and "CSRF" in no_token.text
    wrong = engineer.post(f"{url}/decide", data={**approve, "csrf": viewer_csrf})
    assert wrong.status_code == 403
    money = engineer.post(f"{url}/decide", data={**approve, "csrf": csrf})
    assert money.status_code == 403 and "approver role" in money.text
    bad_json = engineer.post(f"{url}/decide", data={
        "type": "edit", "action": "credit_customer_balance", "args": "{amount: 1",
        "csrf": csrf})
    assert bad_json.status_code == 400 and "not JSON" in bad_json.text
    missing = engineer.post(f"{url}/decide", data={"csrf": csrf})
    assert missing.status_code == 400 and "type" in missing.text
    assert status_of(api, esc["id"]) == "open"
    assert not (tmp_path / "applied").exists()

    first, first_csrf = login(api, "approver", "ada")
    once = first.post(f"{url}/decide", data={**approve, "csrf": first_csrf})
    assert once.status_code == 303 and once.headers["location"] == f"{url}?note=second"
    assert "second, different approver" in first.get(once.headers["location"]).text
    again = first.post(f"{url}/decide", data={**approve, "csrf": first_csrf})
    assert again.status_code == 409

    second, second_csrf = login(api, "approver", "bob")
    done = second.post(f"{url}/decide", data={**approve, "csrf": second_csrf})
    assert done.status_code == 303
    run_page = done.headers["location"]
    assert re.fullmatch(rf"/console/threads/{esc['thread_id']}/runs/run_\w+", run_page)
    assert second.get(run_page).status_code == 200
    tid, rid = run_page.split("/")[3], run_page.split("/")[5]
    httpx.get(f"{api.url}/threads/{tid}/runs/{rid}/join", timeout=60,
              headers=bearer(api.db, "viewer", "joiner"))
    assert (tmp_path / "applied").read_text() == "approve:credit_customer_balance\n"
    decided = second.get(url).text
    assert "decided" in decided and "user:bob" in decided
    assert second.post(f"{url}/decide", data={**approve, "csrf": second_csrf}
                       ).status_code == 409


def test_report_pages_render_stored_maps_runs_and_signals(api):
    from tests.api.test_product_endpoints import _seed
    from tests.api.test_shadow_signals_routes import _shadow_run
    from tools.shadow.store import save_run

    _seed(api.db, api.settings)
    with api.db.session() as session:
        save_run(session, _shadow_run("shd_PAGE", "acme", "FAIL", datetime.now(UTC)))
    client, _ = login(api, "viewer", "vic")

    engagements = client.get("/console/engagements")
    assert "/console/workspace/acme" in engagements.text
    mapped = client.get("/console/engagements/acme/map")
    assert mapped.status_code == 200 and "<svg" in mapped.text
    assert "endpoint: we_NEW00001" in mapped.text
    assert client.get("/console/engagements/acme/map?version=1").text.count("<rect") == 1
    assert client.get("/console/engagements/nope/map").status_code == 404

    assert "rcn_TEST000001" in client.get("/console/recon?engagement=acme").text
    from tools.recon.models import ReconRun
    from tools.recon.store import save_run as save_recon

    with api.db.session() as session:  # stored text is data: the page escapes it
        save_recon(session, ReconRun(id="rcn_XSS", engagement="<script>x()</script>",
                                     started_at=datetime.now(UTC), verdict="BREAKS"))
    listed = client.get("/console/recon").text
    assert "&lt;script&gt;x()&lt;/script&gt;" in listed and "<script>x()" not in listed
    recon = client.get("/console/recon/rcn_TEST000001")
    assert recon.status_code == 200 and "BREAKS" in recon.text
    missing = client.get("/console/recon/rcn_nope")
    assert missing.status_code == 404 and "rcn_nope" in missing.text

    assert "shd_PAGE" in client.get("/console/shadow").text
    shadow = client.get("/console/shadow/shd_PAGE")
    assert shadow.status_code == 200 and "FAIL" in shadow.text and "2 grants" in shadow.text

    signals = client.get("/console/signals")
    assert signals.status_code == 200 and "FM-01" in signals.text

    bad_filter = client.get("/console/?severity=urgent")
    assert bad_filter.status_code == 400 and "unknown severity" in bad_filter.text
    assert client.get("/console/?min_age_minutes=ten").status_code == 400
    assert client.get("/console/?min_age_minutes=99999999999999999999").status_code == 400
    assert client.get("/console/?min_age_minutes=30").status_code == 200
