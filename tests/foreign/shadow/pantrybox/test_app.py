"""Pantry Box's own checks, without the shadow tool.

- The correct build, started from app.yaml as its own process, turns the scenario's events
  (delivered once, in order, signed) into the state Stripe's final objects imply; its
  reset keeps the plan catalogue.
- Each bug variant really has its bug (one small direct test each).
- The answer key holds against this app's own code, under a small stand-in for each
  delivery fault (slow).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
import yaml

from tests.conftest import REPO, free_port

from . import courier, testkit
from .handlers import STATUS_WORDS
from .models import PLANS
from .variants import VARIANTS
from .webapp import create_app

HERE = Path(__file__).parent
APP = yaml.safe_load((HERE / "app.yaml").read_text())
KEY = yaml.safe_load((HERE / "answer_key.yaml").read_text())
SECRET = "whsec_pantrybox_test_secret"
BUGS = [v for v in VARIANTS if v != "correct"]


# -- fixtures ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """The scenario's events (oldest first) and the server's final objects."""
    return testkit.record_corpus(tmp_path_factory.mktemp("replica") / "replica.sqlite")


@pytest.fixture(scope="module")
def corpus(recorded):
    return recorded[0]


def _run_in_process(tmp: Path, variant: str, deliveries, *, name: str = "") -> tuple[
        list[int], dict]:
    url = f"sqlite:///{tmp / f'{name or variant}.db'}"
    client = create_app(url, variant=variant, secret=SECRET, admin_token="t").test_client()

    def post(body: str, headers: dict[str, str]) -> int:
        return client.post(APP["webhook_path"], data=body, headers=headers).status_code

    statuses = testkit.deliver_all(post, deliveries, SECRET)
    return statuses, testkit.snapshot(url)


def _by_type(corpus, kind, **match):
    return [e for e in corpus if e["type"] == kind and all(
        e["data"]["object"].get(k) == v for k, v in match.items())]


# -- the app's contract files -----------------------------------------------------------
def test_app_yaml_and_answer_key_cover_every_variant():
    assert set(APP["variants"]) == set(VARIANTS)
    assert set(KEY["variants"]) == set(BUGS)
    cells = Counter()
    for name, row in KEY["variants"].items():
        assert row["why"], name
        assert set(row) - {"why"} == set(testkit.FAULTS), name
        cells.update(row[f] for f in testkit.FAULTS)
    assert dict(cells) == {k: v for k, v in KEY["counts"].items() if v}
    assert all(KEY["correct"][f] == "must_not_show" for f in testkit.FAULTS)
    assert (HERE / "DESCRIPTION.md").read_text().startswith("# Pantry Box")


def test_scenario_has_no_ambiguous_same_second_snapshots(corpus):
    """The correct build orders snapshots by event.created; within one second only a
    `.created` event may disagree with a later one (it never wins a tie)."""
    seen: dict[tuple[str, int], set[tuple]] = {}
    for e in corpus:
        if e["type"] not in ("customer.updated", "customer.subscription.updated"):
            continue
        obj = e["data"]["object"]
        items = (obj.get("items") or {}).get("data") or [{}]
        state = (obj.get("email"), obj.get("status"), items[0].get("current_period_end"))
        seen.setdefault((obj["id"], e["created"]), set()).add(state)
    assert seen and all(len(states) == 1 for states in seen.values())


def test_scenario_ends_each_household_with_a_typo_then_its_fix(corpus):
    """The answer key's premise for trust_arrival_order under delay and retry."""
    last: dict[str, list[str]] = {}
    for e in corpus:
        if e["type"] in ("customer.created", "customer.updated"):
            last.setdefault(e["data"]["object"]["id"], []).append(e["data"]["object"]["email"])
    assert len(last) == 7
    for emails in last.values():
        assert emails[-2].endswith("@pantrybox.exmaple") and emails[-1].endswith(
            "@pantrybox.example")
    refunds = [e["data"]["object"]["amount_refunded"]
               for e in _by_type(corpus, "charge.refunded")]
    assert sorted(refunds) == [1000, 1500, 3500]


# -- the correct build, a real process started from app.yaml ----------------------------
class Server:
    def __init__(self, tmp: Path, variant: str) -> None:
        self.port = free_port()
        self.db_url = f"sqlite:///{tmp / f'pantrybox-{variant}.db'}"
        fill = {"python": sys.executable, "port": str(self.port), "db_url": self.db_url,
                "variant": variant, "secret": SECRET}
        env = {**os.environ, **{k: v.format(**fill) for k, v in APP["env"].items()}}
        if APP["init"]:
            subprocess.run([a.format(**fill) for a in APP["init"]], cwd=REPO, env=env,
                           check=True)
        self.proc = subprocess.Popen([a.format(**fill) for a in APP["start"]], cwd=REPO,
                                     env=env)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=60)
        deadline = time.monotonic() + 30
        while True:
            try:
                if self.http.get(APP["health_path"]).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert self.proc.poll() is None, "server exited"
            assert time.monotonic() < deadline, "server not healthy in 30 s"
            time.sleep(0.1)

    def post(self, body: str, headers: dict[str, str]) -> int:
        return self.http.post(APP["webhook_path"], content=body, headers=headers).status_code

    def close(self) -> None:
        self.http.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def server(tmp_path):
    started: list[Server] = []

    def start(variant: str = "correct") -> Server:
        started.append(Server(tmp_path, variant))
        return started[-1]

    yield start
    for s in started:
        s.close()


def _plan_of(sub: dict) -> str:
    return sub["items"]["data"][0]["price"]["metadata"]["plan"]


@pytest.mark.slow
def test_correct_build_processes_the_scenario_in_order(recorded, server):
    events, truth = recorded
    app = server("correct")
    statuses = testkit.deliver_all(app.post, map(testkit.Delivery, events), SECRET)
    assert set(statuses) == {200}
    snap = testkit.snapshot(app.db_url)

    assert {(r["code"], r["boxes_per_invoice"]) for r in testkit.rows(snap, "plan")} == {
        (code, boxes) for code, (_, boxes) in PLANS.items()}
    households = {r["stripe_customer_id"]: r for r in testkit.rows(snap, "household")}
    assert set(households) == {c["id"] for c in truth["customers"]}
    for c in truth["customers"]:
        assert households[c["id"]]["email"] == c["email"]
        assert households[c["id"]]["country"] == (c.get("address") or {}).get("country")
    assert sum(h["email"].endswith("@pantrybox.example") for h in households.values()) == 7

    subs = {r["stripe_subscription_id"]: r for r in testkit.rows(snap, "box_subscription")}
    assert set(subs) == {s["id"] for s in truth["subscriptions"]}
    for s in truth["subscriptions"]:
        row = subs[s["id"]]
        assert row["status"] == STATUS_WORDS[s["status"]], s["id"]
        assert row["plan_code"] == _plan_of(s)
        assert row["current_period_end"] == s["items"]["data"][0]["current_period_end"]
    assert Counter(r["status"] for r in subs.values()) == {"active": 4, "ended": 2}

    # One box per plan box for every paid subscription invoice, refunded where refunded.
    plan_by_sub = {s["id"]: _plan_of(s) for s in truth["subscriptions"]}
    paid = [i for i in truth["invoices"] if i["status"] == "paid"]
    boxes = Counter(r["source_ref"] for r in testkit.rows(snap, "shipment")
                    if r["kind"] == "box")
    assert boxes == {i["id"]: PLANS[plan_by_sub[
        i["parent"]["subscription_details"]["subscription"]]][1] for i in paid}
    refunded_charges = [c for c in truth["charges"] if c["amount_refunded"]]
    notes = {r["stripe_charge_id"]: r for r in testkit.rows(snap, "refund_note")}
    assert {c["id"]: (c["amount_refunded"], c["currency"]) for c in refunded_charges} == {
        k: (n["amount"], n["currency"]) for k, n in notes.items()}
    assert sorted(n["target_kind"] for n in notes.values()) == ["gift_order", "shipment"]
    refunded_invoice = next(n["target_ref"] for n in notes.values()
                            if n["target_kind"] == "shipment")
    assert {r["status"] for r in testkit.rows(snap, "shipment")
            if r["source_ref"] == refunded_invoice} == {"refunded"}

    # Gift orders: paid, refunded, paid later by SEPA, failed SEPA (no box).
    pis = {p["id"]: p for p in truth["payment_intents"]}
    charge_by_pi = {c["payment_intent"]: c for c in truth["charges"]}
    gifts = {r["stripe_checkout_session_id"]: r for r in testkit.rows(snap, "gift_order")}
    gift_boxes = Counter(r["source_ref"] for r in testkit.rows(snap, "shipment")
                         if r["kind"] == "gift")
    sessions = [s for s in truth["checkout_sessions"] if s["metadata"].get("kind") == "gift"]
    assert set(gifts) == {s["id"] for s in sessions} and len(sessions) == 4
    for s in sessions:
        pi = pis[s["payment_intent"]]
        expected = ("refunded" if charge_by_pi[pi["id"]]["refunded"] else
                    "paid" if pi["status"] == "succeeded" else "payment_failed")
        assert gifts[s["id"]]["status"] == expected
        assert gift_boxes[s["id"]] == (0 if expected == "payment_failed" else 1)
    assert Counter(g["status"] for g in gifts.values()) == {
        "paid": 2, "refunded": 1, "payment_failed": 1}

    failures = _by_type(events, "invoice.payment_failed")
    notices = testkit.rows(snap, "dunning_notice")
    assert len(notices) == len(failures) == len(
        {(n["stripe_invoice_id"], n["attempt_count"]) for n in notices})
    assert len(testkit.rows(snap, "processed_event")) == len(testkit.handled(events))

    # The staging reset: wrong token refused; the right one keeps only the plans.
    assert app.http.post(APP["reset"]["path"], headers={
        "X-Pantry-Admin-Token": "nope"}).status_code == 403
    reset = app.http.request(APP["reset"]["method"], APP["reset"]["path"],
                             headers=APP["reset"]["headers"])
    assert reset.status_code == 200
    after = testkit.snapshot(app.db_url)
    assert len(after["plan"]) == 3
    assert all(not after[t] for t in testkit.TABLES if t != "plan")


def test_signature_is_checked_on_the_raw_body(corpus, tmp_path):
    client = create_app(f"sqlite:///{tmp_path / 'pb.db'}", variant="correct", secret=SECRET,
                        admin_token=None).test_client()
    body = testkit.Delivery(corpus[0]).body()
    good = testkit.sign(body, SECRET)
    assert client.post("/webhooks/stripe", data=body,
                       headers={"Stripe-Signature": good}).status_code == 200
    assert client.post("/webhooks/stripe", data=body + " ",
                       headers={"Stripe-Signature": good}).status_code == 400
    assert client.post("/webhooks/stripe", data=body, headers={
        "Stripe-Signature": testkit.sign(body, "whsec_other")}).status_code == 400
    assert client.post("/admin/reset").status_code == 403  # no token configured


# -- each variant really has its bug ----------------------------------------------------
def _compare(tmp_path, bug: str, deliveries) -> tuple[tuple, tuple]:
    deliveries = list(deliveries)
    good = _run_in_process(tmp_path, "correct", deliveries)
    bad = _run_in_process(tmp_path, bug, deliveries)
    return good, bad


def _subscription_and_first_invoice(corpus, plan: str):
    created = next(e for e in _by_type(corpus, "customer.subscription.created")
                   if _plan_of(e["data"]["object"]) == plan)
    sub_id = created["data"]["object"]["id"]
    paid = next(e for e in _by_type(corpus, "invoice.paid") if e["data"]["object"][
        "parent"]["subscription_details"]["subscription"] == sub_id)
    return created, paid


def _boxes(snap, kind="box"):
    return [r for r in testkit.rows(snap, "shipment") if r["kind"] == kind]


def test_no_dedupe_ships_a_redelivered_invoice_twice(corpus, tmp_path):
    created, paid = _subscription_and_first_invoice(corpus, "family")
    (_, good), (_, bad) = _compare(tmp_path, "no_dedupe", map(testkit.Delivery,
                                                              [created, paid, paid]))
    assert len(_boxes(good)) == 2 and len(_boxes(bad)) == 4


def test_trust_arrival_order_lets_an_older_snapshot_win(corpus, tmp_path):
    typo, fix = [e for e in _by_type(corpus, "customer.updated")
                 if "@pantrybox." in e["data"]["object"]["email"]][:2]
    (_, good), (_, bad) = _compare(tmp_path, "trust_arrival_order",
                                   map(testkit.Delivery, [fix, typo]))
    assert testkit.rows(good, "household")[0]["email"].endswith("@pantrybox.example")
    assert testkit.rows(bad, "household")[0]["email"].endswith("@pantrybox.exmaple")


def test_ship_on_checkout_completed_packs_an_unpaid_sepa_gift(corpus, tmp_path):
    failed = _by_type(corpus, "checkout.session.async_payment_failed")[0]
    completed = next(e for e in _by_type(corpus, "checkout.session.completed")
                     if e["data"]["object"]["id"] == failed["data"]["object"]["id"])
    assert completed["data"]["object"]["payment_status"] == "unpaid"
    (_, good), (_, bad) = _compare(tmp_path, "ship_on_checkout_completed",
                                   map(testkit.Delivery, [completed, failed]))
    assert _boxes(good, "gift") == [] and len(_boxes(bad, "gift")) == 1
    assert testkit.rows(bad, "gift_order")[0]["status"] == "payment_failed"


def test_newest_shape_only_ships_nothing_for_an_old_shape_invoice(corpus, tmp_path):
    created, paid = _subscription_and_first_invoice(corpus, "duo")
    deliveries = [testkit.Delivery(created, old_shape=True),
                  testkit.Delivery(paid, old_shape=True)]
    (_, good), (_, bad) = _compare(tmp_path, "newest_shape_only", deliveries)
    assert len(_boxes(good)) == 1 and _boxes(bad) == []
    assert testkit.rows(good, "box_subscription")[0]["current_period_end"] is not None
    assert testkit.rows(bad, "box_subscription")[0]["current_period_end"] is None
    # ... and the newest shape is read as correct reads it.
    newest = tmp_path / "newest"
    newest.mkdir()
    good, bad = _compare(newest, "newest_shape_only", map(testkit.Delivery, [created, paid]))
    assert good == bad


def _gift_refund(corpus):
    refund = _by_type(corpus, "charge.refunded")[0]
    pi = refund["data"]["object"]["payment_intent"]
    completed = next(e for e in _by_type(corpus, "checkout.session.completed")
                     if e["data"]["object"]["payment_intent"] == pi)
    return [completed, refund]


def test_ignore_refunds_leaves_the_gift_paid(corpus, tmp_path):
    (_, good), (_, bad) = _compare(tmp_path, "ignore_refunds",
                                   map(testkit.Delivery, _gift_refund(corpus)))
    assert testkit.rows(good, "gift_order")[0]["status"] == "refunded"
    assert testkit.rows(bad, "gift_order")[0]["status"] == "paid"
    assert testkit.rows(bad, "refund_note") == []


def test_refund_in_major_units_records_pounds(corpus, tmp_path):
    (_, good), (_, bad) = _compare(tmp_path, "refund_in_major_units",
                                   map(testkit.Delivery, _gift_refund(corpus)))
    assert testkit.rows(good, "refund_note")[0]["amount"] == 3500
    assert testkit.rows(bad, "refund_note")[0]["amount"] == 35


@pytest.mark.slow
def test_slow_courier_booking_answers_after_stripes_timeout(corpus, server):
    created, paid = _subscription_and_first_invoice(corpus, "family_plus")
    timings = {}
    for variant in ("correct", "slow_courier_booking"):
        app = server(variant)
        testkit.deliver_all(app.post, [testkit.Delivery(created)], SECRET)
        started = time.monotonic()
        assert testkit.deliver_all(app.post, [testkit.Delivery(paid)], SECRET) == [200]
        timings[variant] = time.monotonic() - started
        assert len(_boxes(testkit.snapshot(app.db_url))) == 3
    assert timings["correct"] < 2 and timings["slow_courier_booking"] >= 12


def test_strict_signature_window_rejects_a_two_minute_old_signature(corpus, tmp_path):
    skewed = [testkit.Delivery(corpus[0], skew=-120), testkit.Delivery(corpus[0], skew=150)]
    (good, _), (bad, _) = _compare(tmp_path, "strict_signature_window", skewed)
    assert good == [200, 200] and bad == [400, 400]


# -- the answer key against this app's own code (a stand-in for each fault) ------------
_REPLAYS: dict[tuple[str, str, int], tuple[list[int], dict, int]] = {}
# One seed keeps this under ~5 minutes on two cores; PANTRYBOX_FAULT_SEEDS=1,2,3 for more.
FAULT_SEEDS = [int(s) for s in os.environ.get("PANTRYBOX_FAULT_SEEDS", "1").split(",")]


@pytest.fixture(scope="module")
def replay_dir(tmp_path_factory):
    """Scratch databases for the replays, in memory-backed /dev/shm where there is one."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path_factory.mktemp("replays")
        return
    path = Path(tempfile.mkdtemp(prefix="pantrybox-", dir=shm))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _replay(events, tmp: Path, variant: str, fault: str, seed: int):
    """Statuses, final tables and courier calls of one build under one faulted delivery
    (cached per test worker: the correct build's runs are shared by every variant)."""
    key = (variant, fault, seed)
    if key not in _REPLAYS:
        calls = []
        original = courier.book_pallet_slot
        courier.book_pallet_slot = lambda *args: calls.append(args) or "slot"
        try:
            statuses, snap = _run_in_process(tmp, variant, testkit.faulted(events, fault, seed),
                                             name=f"{variant}-{fault}-{seed}")
        finally:
            courier.book_pallet_slot = original
        _REPLAYS[key] = statuses, snap, len(calls)
    return _REPLAYS[key]


@pytest.mark.slow
@pytest.mark.parametrize("fault", testkit.FAULTS)
@pytest.mark.parametrize("variant", ["correct", *BUGS])
def test_answer_key_holds_under_a_stand_in_for_each_fault(corpus, replay_dir, variant, fault):
    events = testkit.handled(corpus)
    tmp = replay_dir
    for seed in FAULT_SEEDS:
        good_status, good_snap, _ = _replay(events, tmp, "correct", fault, seed)
        if variant == "correct":
            # The production build ends where in-order delivery ends, whatever the fault.
            assert set(good_status) == {200}
            assert good_snap == _replay(events, tmp, "correct", "none", 0)[1], (fault, seed)
            continue
        status, snap, courier_calls = _replay(events, tmp, variant, fault, seed)
        shows = status != good_status or snap != good_snap or courier_calls > 0
        expected = KEY["variants"][variant][fault]
        if expected == "must_show":
            assert shows, (variant, fault, seed)
        elif expected == "must_not_show":
            assert not shows, (variant, fault, seed)
