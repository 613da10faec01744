"""Mapping v2 end to end through `run_recon`: a small SQLite company and a snapshot of
Stripe objects as JSON, each test pinning one of issue 20's point-1 items."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from tools.recon.adapter import open_user_system
from tools.recon.mapping import parse_mapping
from tools.recon.models import ReconRun
from tools.recon.run import run_recon
from tools.recon.sync.store import SNAPSHOT_SCHEMA, Checkpoint, TypeState

T = 1767571200


class FakeSnapshot:
    """Objects by type, read like a synced snapshot."""

    def __init__(self, objects: list[dict[str, Any]]) -> None:
        self.objects = objects

    def checkpoint(self) -> Checkpoint:
        types = {o["object"] for o in self.objects} | {"event", "refund", "dispute"}
        return Checkpoint(types={t: TypeState() for t in types}, complete=True)

    def frame(self, object_type: str, *, include_deleted: bool = False) -> pl.DataFrame:
        rows = [{"id": o["id"], "object": o["object"], "account": None, "livemode": False,
                 "created": o.get("created", T), "deleted": False, "version": 1, "source": 0,
                 "gen": 1, "data": json.dumps(o)}
                for o in self.objects if o["object"] == object_type]
        return pl.DataFrame(rows, schema=SNAPSHOT_SCHEMA)


_CLOCK = iter(range(T, T + 10**8, 3600))  # an hour apart: never one intent created twice


def pi(pid: str, status: str, *, amount: int = 1000, cus: str = "cus_1", kind: str = "pack",
       refunded: int = 0, created: int | None = None, **meta: str) -> list[dict[str, Any]]:
    charge = f"ch_{pid[3:]}"
    created = created if created is not None else next(_CLOCK)
    return [{"id": pid, "object": "payment_intent", "status": status, "amount": amount,
             "amount_received": amount if status == "succeeded" else 0, "currency": "eur",
             "customer": cus, "created": created, "latest_charge": charge,
             "metadata": {"kind": kind, "order_id": pid, **meta}},
            {"id": charge, "object": "charge", "payment_intent": pid, "amount": amount,
             "amount_refunded": refunded, "refunded": refunded >= amount, "created": created}]


def world(tmp_path: Path, sql: str) -> str:
    path = tmp_path / "company.db"
    con = sqlite3.connect(path)
    con.executescript(sql)
    con.commit()
    con.close()
    return f"sqlite:///{path}"


def reconcile(url: str, doc: dict[str, Any], objects: list[dict[str, Any]]) -> ReconRun:
    mapping = parse_mapping(doc)
    return run_recon(snapshot=FakeSnapshot(objects), user=open_user_system(url, mapping),
                     mapping=mapping)


def found(run: ReconRun) -> list[tuple[str, str | None, str | None]]:
    return sorted(((d.class_.value, d.stripe_id, d.local_key) for d in run.discrepancies),
                  key=lambda f: tuple(x or "" for x in f))


ORDERS = """
    CREATE TABLE members (id INTEGER PRIMARY KEY, ref TEXT, closed INTEGER DEFAULT 0);
    CREATE TABLE orders (id INTEGER PRIMARY KEY, member_id INTEGER, pi TEXT, price NUMERIC,
                         ccy TEXT, status TEXT, updated TEXT);
"""


def order_mapping(**status: Any) -> dict[str, Any]:
    return {"version": 2, "entities": {
        "member": {"table": "members", "stripe_object": "customer", "key": "ref",
                   "where": "closed = 0", "fields": {}},
        "order": {"table": "orders", "stripe_object": "payment_intent", "key": "pi",
                  "stripe_where": "metadata.kind = 'pack'",
                  "stripe_related": {"refunded_at": {
                      "object": "refund", "link": "payment_intent", "value": "MAX(created)",
                      "where": "status = 'succeeded'"}},
                  "fields": {
                      "customer": {"column": "member_id", "type": "ref", "entity": "member"},
                      "price": {"column": "price", "type": "money", "unit": "major",
                                "currency": "ccy", "stripe": "amount"},
                      "status": {"column": "status", "values": {
                          "paid": "succeeded", "part_refunded": "succeeded",
                          "refunded": "succeeded", "failed": "canceled",
                          "waiting": ["processing", "requires_action"]}},
                      **status}}}}


DERIVED = {"column": "status", "expect": (
    "CASE WHEN status = 'succeeded' AND latest_charge.amount_refunded = 0 THEN 'paid' "
    "WHEN status = 'succeeded' AND latest_charge.amount_refunded < latest_charge.amount "
    "THEN 'part_refunded' WHEN status = 'succeeded' THEN 'refunded' "
    "WHEN status = 'canceled' THEN 'failed' ELSE 'waiting' END")}


def test_values_translate_many_local_words_to_one_stripe_word_and_back(tmp_path: Path):
    url = world(tmp_path, ORDERS + """
        INSERT INTO members VALUES (1, 'cus_1', 0);
        INSERT INTO orders VALUES (1, 1, 'pi_a', 10.00, 'EUR', 'paid', NULL),
          (2, 1, 'pi_b', 10.00, 'EUR', 'refunded', NULL),
          (3, 1, 'pi_c', 10.00, 'EUR', 'waiting', NULL),
          (4, 1, 'pi_d', 10.00, 'EUR', 'waiting', NULL),
          (5, 1, 'pi_e', 10.00, 'EUR', 'paid', NULL),
          (6, 1, 'pi_f', 10.00, 'EUR', 'pending', NULL);""")
    objects = [{"id": "cus_1", "object": "customer"},
               *pi("pi_a", "succeeded"), *pi("pi_b", "succeeded"), *pi("pi_c", "processing"),
               *pi("pi_d", "requires_action"), *pi("pi_e", "canceled"),
               *pi("pi_f", "processing")]
    run = reconcile(url, order_mapping(), objects)
    # paid/refunded → succeeded (many to one); waiting → processing or requires_action (one
    # to many); 'paid' vs canceled and an unlisted word differ
    assert found(run) == [("STALE_STATE", "pi_e", "orders:5"), ("STALE_STATE", "pi_f", "orders:6")]
    diff = {d.stripe_id: (d.stripe_values, d.local_values) for d in run.discrepancies}
    assert diff["pi_e"] == ({"status": "canceled"}, {"status": "succeeded"})
    assert diff["pi_f"] == ({"status": "processing"}, {"status": "pending"})


def test_a_value_derived_from_several_stripe_fields_and_related_objects(tmp_path: Path):
    url = world(tmp_path, ORDERS + """
        INSERT INTO members VALUES (1, 'cus_1', 0);
        INSERT INTO orders VALUES (1, 1, 'pi_a', 10.00, 'EUR', 'paid', '2026-01-05T00:00:00Z'),
          (2, 1, 'pi_b', 10.00, 'EUR', 'part_refunded', '2026-01-06 00:00:00'),
          (3, 1, 'pi_c', 10.00, 'EUR', 'paid', '1767744000'),
          (4, 1, 'pi_d', 10.00, 'EUR', 'refunded', '2026-01-05T01:00:00+01:00');""")
    objects = [{"id": "cus_1", "object": "customer"},
               *pi("pi_a", "succeeded", created=T),
               *pi("pi_b", "succeeded", refunded=300, created=T),
               *pi("pi_c", "succeeded", refunded=1000, created=T),
               *pi("pi_d", "succeeded", refunded=1000, created=T),
               {"id": "re_b", "object": "refund", "payment_intent": "pi_b",
                "status": "succeeded", "created": T + 86400},
               {"id": "re_c", "object": "refund", "payment_intent": "pi_c",
                "status": "succeeded", "created": T + 2 * 86400},
               {"id": "re_d", "object": "refund", "payment_intent": "pi_d",
                "status": "succeeded", "created": T + 3600}]
    mapping = order_mapping(
        refund_state=DERIVED,
        updated={"column": "updated", "type": "timestamp",
                 "expect": "GREATEST(created, refunded_at)"})
    run = reconcile(url, mapping, objects)
    # pi_c: fully refunded, the order still 'paid' (updated agrees); pi_d: the refund time
    # is a day later than the order says
    assert found(run) == [("STALE_STATE", "pi_c", "orders:3"), ("STALE_STATE", "pi_d", "orders:4")]
    fields = {d.stripe_id: d.fields for d in run.discrepancies}
    assert fields == {"pi_c": ["refund_state"], "pi_d": ["updated"]}


def test_conditions_compare_a_link_only_where_it_must_hold(tmp_path: Path):
    url = world(tmp_path, ORDERS.replace("updated TEXT", "updated TEXT, inv TEXT") + """
        INSERT INTO members VALUES (1, 'cus_1', 0);
        INSERT INTO orders VALUES (1, 1, 'pi_a', 10.00, 'EUR', 'paid', NULL, 'in_1'),
          (2, 1, 'pi_b', 10.00, 'EUR', 'waiting', NULL, NULL),
          (3, 1, 'pi_c', 10.00, 'EUR', 'waiting', NULL, 'in_3'),
          (4, 1, 'pi_d', 10.00, 'EUR', 'paid', NULL, NULL);""")
    objects = [{"id": "cus_1", "object": "customer"},
               *pi("pi_a", "succeeded", invoice="in_1"), *pi("pi_b", "processing"),
               *pi("pi_c", "processing", invoice="in_3"), *pi("pi_d", "succeeded",
                                                              invoice="in_4")]
    link = {"column": "inv", "stripe": "metadata.invoice", "when": "status = 'succeeded'"}
    # without `otherwise`: not compared while the money has not moved (pi_c's early link
    # is fine); a paid order must carry the link (pi_d)
    assert found(reconcile(url, order_mapping(invoice=link), objects)) == [
        ("STALE_STATE", "pi_d", "orders:4")]
    # with `otherwise: null` the link must be empty until then (pi_c now differs)
    strict = {**link, "otherwise": None}
    assert found(reconcile(url, order_mapping(invoice=strict), objects)) == [
        ("STALE_STATE", "pi_c", "orders:3"), ("STALE_STATE", "pi_d", "orders:4")]


def test_row_filters_on_both_sides_and_duplicate_rows_are_not_dropped(tmp_path: Path):
    url = world(tmp_path, ORDERS + """
        INSERT INTO members VALUES (1, 'cus_1', 0), (2, 'cus_2', 1);
        INSERT INTO orders VALUES (1, 1, 'pi_a', 10.00, 'EUR', 'paid', NULL),
          (2, 1, 'pi_a', 10.00, 'EUR', 'paid', NULL),
          (3, 2, 'pi_z', 10.00, 'EUR', 'paid', NULL),
          (4, 1, 'pi_g', 25.00, 'EUR', 'paid', NULL);""")
    objects = [{"id": "cus_1", "object": "customer"}, {"id": "cus_2", "object": "customer"},
               *pi("pi_a", "succeeded"), *pi("pi_gift", "succeeded", kind="gift_card"),
               *pi("pi_z", "canceled", cus="cus_2"),
               *pi("pi_g", "succeeded", amount=2500, kind="gift_card"),
               *pi("pi_new", "processing")]
    run = reconcile(url, order_mapping(), objects)
    got = found(run)
    # gift cards are not mirrored (pi_gift is not missing), but a gift card the table does
    # hold is compared (pi_g agrees); the closed member's order and customer are ignored
    # (pi_z, cus_2); a pack nobody recorded is missing; the second row for pi_a is kept
    assert ("MISSING_LOCAL", "pi_new", None) in got
    assert not [f for f in got if f[1] in ("pi_gift", "pi_g", "pi_z", "cus_2")]
    assert [f for f in got if f[1] == "pi_a"] == [("DUPLICATE_LOCAL_EFFECT", "pi_a", "orders:2")]
    assert run.compared["order"] >= 3


def test_local_only_rows_with_a_null_key_expect_no_counterpart(tmp_path: Path):
    url = world(tmp_path, """
        CREATE TABLE ws (id TEXT PRIMARY KEY, cus TEXT, tier TEXT, email TEXT);
        INSERT INTO ws VALUES ('w1', NULL, 'free', 'a@x'), ('w2', NULL, 'paid', 'b@x'),
                              ('w3', 'cus_3', 'paid', 'c@x');""")
    objects = [{"id": "cus_3", "object": "customer", "email": "c@x"}]
    base = {"table": "ws", "stripe_object": "customer", "key": "cus",
            "fields": {"email": "email"}}
    doc = {"version": 2, "entities": {"ws": base}}
    assert found(reconcile(url, doc, objects)) == []  # v2 default: NULL key = local only
    doc["entities"]["ws"] = {**base, "null_key": {"ignore_when": "tier = 'free'"}}
    assert found(reconcile(url, doc, objects)) == [("ORPHAN_LOCAL", None, "ws:w2")]


GRANTS = """
    CREATE TABLE members (id INTEGER PRIMARY KEY, ref TEXT);
    CREATE TABLE access (id INTEGER PRIMARY KEY, member_id INTEGER, feature TEXT,
                         granted_at INTEGER, revoked_at TEXT);
    CREATE TABLE orders (id INTEGER PRIMARY KEY, pi TEXT, status TEXT);
"""


def test_entitlements_without_a_source_column_are_linked_through_declared_joins(
        tmp_path: Path):
    url = world(tmp_path, GRANTS + f"""
        INSERT INTO members VALUES (1, 'cus_1'), (2, 'cus_2');
        INSERT INTO orders VALUES (1, 'pi_ok', 'paid'), (2, 'pi_ref', 'paid'),
                                  (3, 'pi_proc', 'waiting'), (4, 'pi_paid_only', 'paid');
        INSERT INTO access VALUES
          (1, 1, 'library', {T}, NULL), (2, 1, 'live', {T}, NULL),
          (3, 1, 'pack:A', {T}, NULL), (4, 1, 'pack:A', {T + 40}, NULL),
          (5, 1, 'pack:B', {T}, NULL), (6, 1, 'pack:C', {T}, NULL),
          (7, 2, 'library', {T}, NULL), (8, 2, 'pack:Z', {T}, NULL),
          (9, 2, 'pack:D', {T}, '2026-01-06');""")
    objects = [
        {"id": "cus_1", "object": "customer"}, {"id": "cus_2", "object": "customer"},
        {"id": "sub_1", "object": "subscription", "status": "active", "customer": "cus_1",
         "items": {"data": [{"price": {"metadata": {"features": "library, live"}}}]}},
        {"id": "sub_2", "object": "subscription", "status": "incomplete_expired",
         "customer": "cus_2",
         "items": {"data": [{"price": {"metadata": {"features": "library"}}}]}},
        *pi("pi_ok", "succeeded", pack="A"), *pi("pi_ref", "succeeded", pack="B",
                                                 refunded=1000),
        {"id": "re_ref", "object": "refund", "payment_intent": "pi_ref", "amount": 1000,
         "currency": "eur", "status": "succeeded"},
        *pi("pi_proc", "processing", pack="C"),
        *pi("pi_paid_only", "succeeded", cus="cus_2", pack="E")]
    doc = {"version": 2, "entities": {
        "member": {"table": "members", "stripe_object": "customer", "key": "ref",
                   "fields": {}},
        "order": {"table": "orders", "stripe_object": "payment_intent", "key": "pi",
                  "fields": {"status": {"column": "status", "values": {
                      "paid": "succeeded", "waiting": "processing"}}}},
        "access": {"table": "access", "role": "entitlement", "active": "revoked_at IS NULL",
                   "fields": {"customer": {"column": "member_id", "type": "ref",
                                           "entity": "member"},
                              "feature": "feature",
                              "granted_at": {"column": "granted_at", "type": "timestamp"}},
                   "granted_by": [
                       {"stripe_object": "subscription", "match": {
                           "customer": "customer",
                           "feature": {"expect": "items.data[0].price.metadata.features",
                                       "split": ","}}},
                       {"stripe_object": "payment_intent", "where": "metadata.kind = 'pack'",
                        "match": {"customer": "customer",
                                  "feature": "'pack:' || metadata.pack"}}]}}}
    run = reconcile(url, doc, objects)
    assert found(run) == [
        ("APPLIED_BEFORE_FINAL", "pi_proc", "access:6"),
        ("DUPLICATE_LOCAL_EFFECT", "pi_ok", "access:4"),
        ("ORPHAN_APPLICATION", None, "access:8"),
        ("ORPHAN_APPLICATION", "sub_2", "access:7"),
        ("REVERSED_AFTER_APPLICATION", "pi_ref", "access:5"),
        ("UNAPPLIED_PAYMENT", "pi_paid_only", None),
    ]


@pytest.mark.parametrize("expr", ["metadata.kind = ", "CASE WHEN status"])
def test_a_broken_expression_never_reaches_polars(expr: str):
    from tools.recon.errors import MappingError

    doc = order_mapping()
    doc["entities"]["order"]["stripe_where"] = expr
    with pytest.raises(MappingError, match=r"entities\.order: stripe_where: cannot parse"):
        parse_mapping(doc)
