"""The README's promise — keys and secrets are never logged, printed or returned — checked on
a demo-like session: the demo world's replica and the API on real uvicorn, an engineer who
pastes a webhook secret, keys, an fde token, a card number, an e-mail, a phone number and an
IBAN into a ticket (a thread run streamed over SSE, `POST /triage`, the console's chat, `fde
triage` and `fde chat`), then reads everything back: thread state and history, runs, the
escalation queue, the console pages, the CLI's output. Every answer, every SSE stream, every
log line and every file in the data dir (SQLite databases with their WAL files, reports) is
then scanned for what was typed.

The scan is not vacuous: the redacted forms (`rk_live_…` + the last four, `<email>`) must be
found in the same streams and files, so the ticket did reach them."""

from __future__ import annotations

import logging
import random
import re
import string

import httpx
import pytest

from core.logging import configure_logging
from tests.agents.tickets import TICKETS
from tests.api.api_helpers import bearer
from tests.api.test_console_pages import login
from tests.cli.inprocess import fde_in_process, fresh_context


def _luhn_card(rng: random.Random) -> str:
    digits = [4] + [rng.randrange(10) for _ in range(14)]
    total = 0
    for i, d in enumerate(reversed(digits)):  # the check digit will sit right of these
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    digits.append((10 - total % 10) % 10)
    text = "".join(map(str, digits))
    return " ".join(text[i:i + 4] for i in range(0, 16, 4))


def _iban(rng: random.Random) -> str:
    bban = "WEST" + "".join(rng.choice(string.digits) for _ in range(14))
    check = 98 - int("".join(str(int(c, 36)) for c in bban + "GB00")) % 97
    text = f"GB{check:02d}{bban}"
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


def _typed(rng: random.Random) -> dict[str, tuple[str, list[str]]]:
    """name → (what the user types, the strings that must never appear anywhere)."""
    def alnum(n: int) -> str:
        return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))

    whsec, rk, sk = "whsec_" + alnum(32), "rk_live_51" + alnum(30), "sk_test_51" + alnum(30)
    token = "fde_" + alnum(43)
    local = "jane.doe." + alnum(8).lower()
    card, iban = _luhn_card(rng), _iban(rng)
    phone = f"+44 20 {rng.randrange(1000, 9999)} {rng.randrange(1000, 9999)}"
    return {
        "webhook secret": (whsec, [whsec, whsec[:-4]]),
        "restricted key": (rk, [rk, rk[:-4]]),
        "secret key": (sk, [sk, sk[:-4]]),
        "fde token": (token, [token, token[:-4]]),
        "e-mail": (f"{local}@example.com", [local]),
        "card": (card, [card, card.replace(" ", ""), card.replace(" ", "")[:12]]),
        "phone": (phone, [phone, phone[7:]]),
        "iban": (iban, [iban, iban.replace(" ", "")]),
    }


def _ticket(base: str, typed: dict[str, tuple[str, list[str]]]) -> str:
    t = {name: value for name, (value, _) in typed.items()}
    return (f"{base} We rotated to {t['webhook secret']} yesterday and the server runs "
            f"{t['restricted key']} (staging: {t['secret key']}, our API token "
            f"{t['fde token']}). The customer {t['e-mail']} paid with {t['card']}, call them "
            f"on {t['phone']}; refunds go to IBAN {t['iban']}.")


class Seen:
    """Everything the session answered or printed, by where it came from."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    def add(self, where: str, text: str) -> str:
        self.texts.append((where, text))
        return text

    def http(self, where: str, response: httpx.Response) -> httpx.Response:
        assert response.status_code < 500, (where, response.text)
        self.add(f"{where} {response.status_code}", response.text)
        return response


@pytest.mark.slow
def test_a_demo_session_never_returns_logs_or_stores_what_was_typed(
        api, demo_engagement, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FDE_LOG_LEVEL", "DEBUG")  # for the CLI commands run in this process
    data_dir = api.settings.data_dir
    typed = _typed(random.Random())
    ticket = _ticket(TICKETS["FM-15"], typed)
    seen = Seen()
    # every log line the API writes in this session, rendered as it would be on a terminal
    configure_logging("DEBUG", "json")
    log_file = data_dir / "api.log"
    file_handler = logging.FileHandler(log_file, encoding="utf-8")
    file_handler.setFormatter(logging.getLogger().handlers[0].formatter)
    logging.getLogger().addHandler(file_handler)
    try:
        _session(api, demo_engagement, ticket, seen)
    finally:
        logging.getLogger().removeHandler(file_handler)
        file_handler.close()
        configure_logging("INFO", "console")

    files = [p for p in data_dir.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"fde.db", "checkpoints.sqlite", "api.log"} <= names, names
    assert any(n.endswith("-wal") for n in names), names  # WAL files are scanned too
    leaks = [(name, where) for name, (_, needles) in typed.items() for needle in needles
             for where, text in seen.texts if needle in text]
    leaks += [(name, str(path.relative_to(data_dir))) for name, (_, needles) in typed.items()
              for needle in needles for path in files if needle.encode() in path.read_bytes()]
    assert not leaks, sorted(set(leaks))

    # not vacuous: the redacted ticket is in the streams, the checkpoints and the app database
    last4 = typed["restricted key"][0][-4:]
    kept = [f"rk_live_…{last4}", f"rk_live_\\u2026{last4}"]  # as typed, or JSON-escaped
    for where in ("SSE /threads/runs/stream", "GET state", "POST history", "fde triage state"):
        assert any(w.startswith(where) and any(k in t for k in kept) for w, t in seen.texts), where
    stored = b"".join(p.read_bytes() for p in files if p.name.startswith(("checkpoints", "fde.db")))
    assert kept[0].encode() in stored and b"<email>" in stored and b"<card>" in stored
    assert log_file.stat().st_size > 0


def _session(api, engagement: str, ticket: str, seen: Seen) -> None:
    url = api.url
    engineer = bearer(api.db, "engineer", "ena")
    http = httpx.Client(base_url=url, headers=engineer, timeout=120)

    # a thread run streamed over SSE (the langgraph-sdk shape), metadata typed in too
    thread = seen.http("POST /threads", http.post("/threads", json={
        "metadata": {"engagement": engagement, "note": ticket}})).json()
    tid = thread["thread_id"]
    with http.stream("POST", f"/threads/{tid}/runs/stream", json={
            "assistant_id": "triage", "input": {"ticket": ticket, "engagement": engagement},
            "stream_mode": ["values", "updates", "custom"]}) as stream:
        body = seen.add("SSE /threads/runs/stream", stream.read().decode())
    run_id = re.search(r'"run_id":\s*"(run_\w+)"', body).group(1)
    assert "event: end" in body, body[-2000:]

    for where, response in (
            ("GET state", http.get(f"/threads/{tid}/state")),
            ("POST history", http.post(f"/threads/{tid}/history", json={"limit": 100})),
            ("GET thread", http.get(f"/threads/{tid}")),
            ("GET runs", http.get(f"/threads/{tid}/runs")),
            ("GET run", http.get(f"/threads/{tid}/runs/{run_id}")),
            ("POST threads/search", http.post("/threads/search", json={"limit": 100}))):
        seen.http(where, response)
    with http.stream("GET", f"/threads/{tid}/runs/{run_id}/stream") as replay:
        seen.add("SSE replay", replay.read().decode())

    # the other doors: POST /triage, and the console's chat form
    queued = seen.http("POST /triage", http.post("/triage", json={
        "ticket": ticket, "engagement": engagement, "sync": False})).json()
    with http.stream("GET", queued["stream_url"]) as stream:
        seen.add("SSE /triage", stream.read().decode())
    browser, csrf = login(api, "engineer", "cory")
    asked = browser.post("/console/chat", data={"message": ticket, "engagement": engagement,
                                                "csrf": csrf})
    assert asked.status_code == 303, asked.text
    chat_page = asked.headers["location"]
    chat_thread, chat_run = chat_page.rstrip("/").split("/")[-3::2]
    seen.http("GET chat join", http.get(f"/threads/{chat_thread}/runs/{chat_run}/join"))

    # what an engineer reads afterwards: the queue, its items, the console pages
    queue = seen.http("GET /escalations", http.get("/escalations")).json()
    assert queue, "the FM-15 ticket escalates on the demo world"
    pages = ["/console/", f"/console/threads/{tid}/runs/{run_id}", chat_page,
             f"/console/chat?thread={chat_thread}", "/console/engagements"]
    for item in queue:
        seen.http("GET escalation", http.get(f"/escalations/{item['id']}"))
        pages.append(f"/console/escalations/{item['id']}")
    for page in pages:
        seen.http(f"console {page}", browser.get(page))
    with browser.stream("GET", f"/console/threads/{tid}/runs/{run_id}/events") as events:
        seen.add("console SSE", events.read().decode())
    seen.http("GET /info", http.get("/info"))

    # the same ticket through the CLI, on the same data dir and engagement
    with fresh_context():
        code, out = fde_in_process("triage", ticket, "--engagement", engagement, "--no-sync")
        seen.add("fde triage", out)
        assert code == 0, out[-3000:]
        cli_thread = re.search(r"thread: (thr_\w+)", out).group(1)
        state = api.app.state.runtime.graphs["triage"].get_state(
            {"configurable": {"thread_id": cli_thread}})  # the CLI's checkpoint, read back
        seen.add("fde triage state", state.values["ticket"])
        code, out = fde_in_process("chat", "--engagement", engagement, "--no-sync",
                                   stdin=ticket + "\n\n")
        seen.add("fde chat", out)
        assert code == 0, out[-3000:]
        for args in (("engagement", "show", engagement), ("queue", "list")):
            seen.add(f"fde {' '.join(args)}", fde_in_process(*args)[1])


def test_the_api_door_redacts_what_a_run_or_thread_carries():
    """The boundary models redact before any route, queue row or checkpoint sees the text;
    a decision keeps PII (editing an e-mail address is a legitimate edit) but no secret."""
    from api.runs.models import Command, RunCreate, ThreadCreate

    run = RunCreate(
        assistant_id="triage",
        input={"ticket": "key sk_test_abcdefgh1234, mail jane@example.com",
               "messages": [{"role": "user", "content": "card 4242 4242 4242 4242"}]},
        metadata={"note": "whsec_abcdefgh9876"}, context={"token": "anything"},
        command=Command(resume={"i1": {
            "type": "respond", "message": "use rk_live_zyxwvuts5555 for jane@example.com"}}))
    assert run.input == {"ticket": "key sk_test_…1234, mail <email>",
                         "messages": [{"role": "user", "content": "card <card>"}]}
    assert run.metadata == {"note": "whsec_…9876"} and run.context == {"token": "[REDACTED]"}
    assert run.command.resume["i1"]["message"] == "use rk_live_…5555 for jane@example.com"
    thread = ThreadCreate(metadata={"customer": "jane@example.com"})
    assert thread.metadata == {"customer": "<email>"}
