"""OrbitDesk's generator: the clean world agrees, the planted world differs exactly where the
key says, and a seed always tells the same story. The reading of rows against Stripe below is
our own, written from OrbitDesk's description (not the product's reconciliation)."""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import stripe

from tests.foreign.recon.orbitdesk import generate as gen

CLASSES = ["ENV_MISMATCH", "MISSING_LOCAL", "ORPHAN_LOCAL", "STALE_STATE", "STATE_REGRESSION",
           "UNAPPLIED_PAYMENT", "APPLIED_BEFORE_FINAL", "ORPHAN_APPLICATION",
           "REVERSED_AFTER_APPLICATION", "AMOUNT_MISMATCH", "DUPLICATE_REMOTE",
           "DUPLICATE_LOCAL_EFFECT", "WEBHOOK_GAP"]
LIVE = ("trialing", "active", "past_due")
LS_KEY = "sk_test_orbitdesk0000"


def _fetch(fn, obj_id: str) -> dict[str, Any] | None:
    try:
        return fn(obj_id).to_dict()
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            return None
        raise


class Reading:
    """OrbitDesk's rows read against Stripe by our own rules; `differences()` says where."""

    def __init__(self, client: stripe.StripeClient, db: Path, key: dict[str, Any]) -> None:
        self.c = client
        self.con = sqlite3.connect(db)
        self.con.row_factory = sqlite3.Row
        self.key = key
        self.slugs: dict[str, tuple[str, list[str]]] = {}

    def rows(self, table: str) -> list[sqlite3.Row]:
        return list(self.con.execute(f"SELECT * FROM {table}"))

    def product(self, prod: str) -> tuple[str, list[str]]:
        if prod not in self.slugs:
            meta = self.c.v1.products.retrieve(prod).to_dict()["metadata"]
            self.slugs[prod] = (meta["slug"], json.loads(meta["entitlements"]))
        return self.slugs[prod]

    def truth_state(self, pi: dict[str, Any]) -> str:
        status = pi["status"]
        if status == "succeeded":
            ch = pi.get("latest_charge")
            charge = self.c.v1.charges.retrieve(ch if isinstance(ch, str) else ch["id"]).to_dict()
            if charge.get("refunded"):
                return "reversed"
            if charge.get("disputed"):
                found = self.c.v1.disputes.list(params={"payment_intent": pi["id"]}).data
                if any(d.status == "lost" for d in found):
                    return "reversed"
            return "complete"
        if status in ("processing", "requires_action", "requires_confirmation"):
            return "processing"
        return "declined"

    def payment_intents(self, customers: set[str]) -> list[dict[str, Any]]:
        try:
            return [pi.to_dict() for cus in sorted(customers) for pi in
                    self.c.v1.payment_intents.list(params={"customer": cus}).auto_paging_iter()]
        except stripe.InvalidRequestError:  # localstripe lists PaymentIntents unfiltered
            return [pi.to_dict() for pi in
                    self.c.v1.payment_intents.list(params={"limit": 100}).auto_paging_iter()
                    if pi.customer in customers]

    def differences(self) -> set[str]:
        c, diffs = self.c, set()
        ws_rows = {r["ws_id"]: r for r in self.rows("workspace")}
        live = {w for w, r in ws_rows.items() if r["archived_at"] is None}
        cus_ws: dict[str, str] = {}
        for w in sorted(live):
            r = ws_rows[w]
            if r["tier"] == "free":
                assert r["stripe_customer_id"] is None
                continue
            cus = _fetch(c.v1.customers.retrieve, r["stripe_customer_id"])
            if cus is None or cus.get("deleted") or cus["email"] != r["billing_email"]:
                diffs.add(f"workspace:{w}")
                continue
            cus_ws[cus["id"]] = w

        # subscriptions
        truth: dict[str, tuple[str, dict[str, Any]]] = {}
        for cus, w in cus_ws.items():
            for s in c.v1.subscriptions.list(
                    params={"customer": cus, "status": "all"}).auto_paging_iter():
                truth[s.id] = (w, s.to_dict())
        subs = [r for r in self.rows("seat_subscription") if r["ws_id"] in live]
        seen = Counter(r["sub_key"] for r in subs)
        for r in subs:
            if r["sub_key"] not in truth:
                diffs.add(f"seat_subscription:{r['sub_key']}")
                continue
            w, s = truth[r["sub_key"]]
            item = gen._item(s)
            slug, _ = self.product(gen._price_product(item))
            end = item.get("current_period_end") or s.get("current_period_end")
            if (w, gen.PHASE[s["status"]], item["quantity"], slug, gen.sql_ts(end)) != (
                    r["ws_id"], r["phase"], r["seats"], r["plan_slug"], r["period_end"]):
                diffs.add(f"seat_subscription:{r['sub_key']}")
        for sid in truth:
            if seen[sid] != 1:
                diffs.add(f"stripe:{sid}" if not seen[sid] else f"seat_subscription:{sid}")

        # invoices: subscription invoices once finalized
        invs: dict[str, tuple[str, dict[str, Any]]] = {}
        for cus, w in cus_ws.items():
            for i in c.v1.invoices.list(params={"customer": cus}).auto_paging_iter():
                d = i.to_dict()
                if d["status"] != "draft" and gen._sub_of_invoice(d):
                    invs[d["id"]] = (w, d)
        mirror = [r for r in self.rows("invoice_mirror") if r["ws_id"] in live]
        seen = Counter(r["stripe_inv"] for r in mirror)
        for r in mirror:
            if r["stripe_inv"] not in invs:
                diffs.add(f"invoice_mirror:{r['stripe_inv']}")
                continue
            w, i = invs[r["stripe_inv"]]
            st = i.get("status_transitions") or {}
            changed = gen.iso_ts(max(x for x in (i["created"], st.get("finalized_at"),
                                                 st.get("paid_at")) if x))
            want = (w, i.get("number"), i["amount_due"], i["amount_paid"], i["currency"],
                    gen.INVOICE_STATUS[i["status"]], changed)
            got = (r["ws_id"], r["inv_no"], r["amount_due_cents"], r["amount_paid_cents"],
                   r["currency"], r["status"], r["changed_at"])
            if want != got:
                diffs.add(f"invoice_mirror:{r['stripe_inv']}")
        for iid in invs:
            if seen[iid] != 1:
                diffs.add(f"stripe:{iid}" if not seen[iid] else f"invoice_mirror:{iid}")

        # credit purchases and the ledger
        expected: dict[str, Counter] = defaultdict(Counter)
        purchases = [r for r in self.rows("credit_purchases") if r["ws_id"] in live]
        refs = {r["payment_ref"] for r in purchases}
        for r in purchases:
            pi = _fetch(c.v1.payment_intents.retrieve, r["payment_ref"])
            if pi is None:
                diffs.add(f"credit_purchases:{r['purchase_id']}")
                continue
            state = self.truth_state(pi)
            ok = (cus_ws.get(pi["customer"]), pi["amount"], pi["currency"], state) == (
                r["ws_id"], r["amount_cents"], r["currency"], r["state"])
            if r["invoice_ref"]:
                inv = _fetch(c.v1.invoices.retrieve, r["invoice_ref"])
                ok = ok and inv is not None and inv["status"] == "paid" \
                    and state in ("complete", "reversed")
            if not ok:
                diffs.add(f"credit_purchases:{r['purchase_id']}")
            if state in ("complete", "reversed"):
                expected[r["ws_id"]][r["credits"]] += 1
            if state == "reversed":
                expected[r["ws_id"]][-r["credits"]] += 1
        for pi in self.payment_intents(set(cus_ws)):
            if (pi.get("metadata") or {}).get("purpose") == "credits" and pi["id"] not in refs:
                diffs.add(f"stripe:{pi['id']}")
        actual: dict[str, Counter] = defaultdict(Counter)
        for r in self.rows("credit_ledger"):
            if r["ws_id"] in live:
                actual[r["ws_id"]][r["delta"]] += 1
        for w in set(expected) | set(actual):
            if expected[w] != actual[w]:
                diffs.add(f"credit_ledger:{w}")

        # features switched on = entitlements of the workspace's live subscriptions
        want_f: dict[str, set[str]] = defaultdict(set)
        for w, s in truth.values():
            if s["status"] in LIVE:
                want_f[w] |= set(self.product(gen._price_product(gen._item(s)))[1])
        got_f: dict[str, set[str]] = defaultdict(set)
        for r in self.con.execute('SELECT ws_id, feature FROM ws_features WHERE "on" = 1'):
            if r["ws_id"] in live:
                got_f[r["ws_id"]].add(r["feature"])
        for w in set(want_f) | set(got_f):
            if want_f[w] != got_f[w]:
                diffs.add(f"ws_features:{w}")
        return diffs

    def hooks(self) -> dict[str, Any]:
        """Events in Stripe vs hook_log: unlogged, unknown, crashed and repeated ids."""
        k = self.key
        events = [e.to_dict() for e in self.c.v1.events.list(
            params={"limit": 100, "created": {"gte": k["since"], "lte": k["until"]}}
        ).auto_paging_iter()]
        ids = {r["stripe_customer_id"] for r in self.rows("workspace") if r["stripe_customer_id"]}
        ids |= {r["sub_key"] for r in self.rows("seat_subscription")}
        ids |= {r["payment_ref"] for r in self.rows("credit_purchases")}
        relevant = {e["id"] for e in events if gen._relates(e, ids)}
        log = self.rows("hook_log")
        logged = Counter(r["evt"] for r in log)
        return {"unlogged": relevant - set(logged),
                "unknown": set(logged) - {e["id"] for e in events},
                "crashed": {r["evt"] for r in log if r["outcome"] == "crashed"},
                "repeated": {e for e, n in logged.items() if n > 1},
                "events": {e["id"] for e in events}, "log": log}


def expected_locations(reading: Reading) -> tuple[set[str], set[str]]:
    """Where the key says rows differ; and workspaces whose features may differ with them."""
    con, locs, sub_ws = reading.con, set(), set()
    ws_of_cus = {r["stripe_customer_id"]: r["ws_id"] for r in reading.rows("workspace")}
    for e in reading.key["planted"]:
        table, key = e["local"]["table"], e["local"]["key"]
        if e["class"] == "WEBHOOK_GAP":
            continue
        if table == "credit_ledger":
            if key is not None:
                ws = con.execute("SELECT ws_id FROM credit_ledger WHERE entry_id = ?",
                                 (int(key),)).fetchone()[0]
            else:
                ws = con.execute("SELECT ws_id FROM credit_purchases WHERE purchase_id = ?",
                                 (e["related"]["key"],)).fetchone()[0]
            locs.add(f"credit_ledger:{ws}")
        elif key is None or e["class"] == "DUPLICATE_REMOTE":
            locs.add(f"stripe:{e['stripe_id']}")
        else:
            locs.add(f"{table}:{key}")
        if e["stripe_object"] == "subscription":
            sub = reading.c.v1.subscriptions.retrieve(e["stripe_id"]).to_dict()
            sub_ws.add(ws_of_cus[sub["customer"]])
    return locs, {f"ws_features:{w}" for w in sub_ws}


def check_clean(client: stripe.StripeClient, db: Path, key: dict[str, Any]) -> None:
    assert key["planted"] == []
    reading = Reading(client, db, key)
    assert reading.differences() == set()
    h = reading.hooks()
    assert not (h["unlogged"] or h["unknown"] or h["crashed"] or h["repeated"]), h


def check_planted(client: stripe.StripeClient, db: Path, key: dict[str, Any]) -> None:
    reading = Reading(client, db, key)
    diffs = reading.differences()
    locs, symptoms = expected_locations(reading)
    assert diffs - symptoms == locs, (sorted(diffs - symptoms - locs), sorted(locs - diffs))
    # every class the business can produce, at least twice
    counts = Counter(e["class"].split(".")[0] for e in key["planted"])
    skipped = {n["class"] for n in key["not_planted"]}
    for cls in CLASSES:
        if cls not in skipped:
            assert counts[cls] >= 2, (cls, counts)
    # webhook gaps: the listed events are in Stripe, absent from hook_log, and the log is
    # silent for the window
    h = reading.hooks()
    assert not h["unknown"]
    gaps = [e for e in key["planted"] if e["class"] == "WEBHOOK_GAP"]
    for g in gaps:
        lo, hi = g["window"]["from"], g["window"]["to"]
        assert g["events"] and set(g["events"]) <= h["events"]
        assert not {r["evt"] for r in h["log"]} & set(g["events"])
        assert not [r for r in h["log"] if lo <= r["at"] <= hi]
    assert h["crashed"] and h["repeated"]  # lost/crashed deliveries and redeliveries


ID = re.compile(r"\b(?:evt|pi|in|sub|cus|acct|ch|dp|re)_[A-Za-z0-9]+")


def story(key: dict[str, Any], db: Path) -> dict[str, Any]:
    """What must not change between two builds with one seed (ids and clocks may)."""
    con = sqlite3.connect(db)
    one = lambda q: sorted(con.execute(q).fetchall())  # noqa: E731
    return {
        "planted": sorted((e["class"], e["stripe_object"], e["local"]["table"],
                           ID.sub("<id>", e["why"]), len(e.get("events", [])))
                          for e in key["planted"]),
        "not_planted": key["not_planted"],
        "workspaces": one("SELECT ws_id, name, tier, archived_at IS NULL FROM workspace"),
        "subs": one("SELECT ws_id, plan_slug, seats, phase FROM seat_subscription"),
        "invoices": one("SELECT ws_id, amount_due_cents, amount_paid_cents, currency, status "
                        "FROM invoice_mirror"),
        "purchases": one("SELECT purchase_id, ws_id, credits, amount_cents, currency, state, "
                         "invoice_ref IS NULL FROM credit_purchases"),
        "ledger": one("SELECT ws_id, delta, reason FROM credit_ledger"),
        "features": one('SELECT ws_id, feature, "on" FROM ws_features'),
        "hooks": one("SELECT kind, outcome, count(*) FROM hook_log GROUP BY 1, 2"),
    }


def _build(url: str, key: str, db: Path, *, plant: bool, server: str,
           seed: int = 7) -> dict[str, Any]:
    out = gen.build(api_base=url, api_key=key, db_url=f"sqlite:///{db}", seed=seed,
                    plant=plant, server=server)
    assert out["system"] == "orbitdesk" and out["server"] == server and out["seed"] == seed
    json.dumps(out)  # JSON-serialisable
    return out


# -- tests ---------------------------------------------------------------------------------
def test_their_formats() -> None:
    assert gen.sql_ts(1777593600) == "2026-05-01 00:00:00"
    assert gen.iso_ts(1777593600) == "2026-05-01T00:00:00"
    assert gen.mxn_legacy_cents(29990) == 29989  # the MXN rounding bug they live with
    assert gen.mxn_legacy_cents(1900) == 1900


@pytest.mark.slow
def test_clean_world_replica(replica, tmp_path: Path) -> None:
    from sandbox.replica.testing import TEST_KEY

    db = tmp_path / "orbit.db"
    key = _build(replica.url, TEST_KEY, db, plant=False, server="replica")
    check_clean(replica.client(), db, key)


@pytest.mark.slow
def test_planted_world_replica_and_same_seed(replica, replica_config, tmp_path: Path) -> None:
    from sandbox.replica.testing import TEST_KEY, running_replica

    db = tmp_path / "orbit.db"
    key = _build(replica.url, TEST_KEY, db, plant=True, server="replica")
    check_planted(replica.client(), db, key)
    assert {e["class"] for e in key["planted"]} >= {"ENV_MISMATCH", "WEBHOOK_GAP"}
    for e in key["planted"]:
        if e["class"] == "ENV_MISMATCH":  # the id exists, in the other account only
            other = replica.client().v1.customers.retrieve(
                e["stripe_id"], options={"stripe_account": e["other_account"]})
            assert other.id == e["stripe_id"]

    db2 = tmp_path / "orbit-again.db"
    with running_replica(tmp_path / "again.sqlite", config=replica_config) as second:
        again = _build(second.url, TEST_KEY, db2, plant=True, server="replica")
    assert story(again, db2) == story(key, db)
    assert {e["stripe_id"] for e in again["planted"]} != {e["stripe_id"] for e in key["planted"]}


@pytest.mark.slow
@pytest.mark.localstripe
def test_clean_world_localstripe(localstripe: str, tmp_path: Path) -> None:
    db = tmp_path / "orbit.db"
    key = _build(localstripe, LS_KEY, db, plant=False, server="localstripe")
    client = stripe.StripeClient(LS_KEY, base_addresses={"api": localstripe},
                                 max_network_retries=0)
    check_clean(client, db, key)


@pytest.mark.slow
@pytest.mark.localstripe
def test_planted_world_localstripe(localstripe: str, tmp_path: Path) -> None:
    db = tmp_path / "orbit.db"
    key = _build(localstripe, LS_KEY, db, plant=True, server="localstripe")
    client = stripe.StripeClient(LS_KEY, base_addresses={"api": localstripe},
                                 max_network_retries=0)
    check_planted(client, db, key)
    assert "ENV_MISMATCH" in {n["class"] for n in key["not_planted"]}
    assert key["server_limits"]
