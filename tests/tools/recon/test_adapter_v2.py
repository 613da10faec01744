"""The adapter under a version 2 mapping, on a SQLite database shaped like nobody's:
timestamps in every common form, row filters, local-only rows, duplicate rows kept, money in
major units with the currency read through a ref, single-word values of a log table."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tools.recon.adapter import open_user_system
from tools.recon.local_values import BadValue, to_date, to_epoch
from tools.recon.mapping import parse_mapping

T = 1767571200  # 2026-01-05T00:00:00Z


@pytest.mark.parametrize("value,tz,expected", [
    (T, None, T), (float(T), None, T), (T * 1000, None, T), (str(T), None, T),
    ("2026-01-05 00:00:00", None, T), ("2026-01-05T00:00:00", None, T),
    ("2026-01-05T00:00:00Z", None, T), ("2026-01-05T01:00:00+01:00", None, T),
    ("2026-01-05T00:00:00.137Z", None, T), ("2026-01-05", None, T),
    ("2026-01-05 01:00:00", "Europe/Paris", T), (None, None, None),
])
def test_timestamps_in_any_common_form_become_unix_seconds(value, tz, expected):
    assert to_epoch(value, tz) == expected


def test_a_timestamp_in_no_known_form_is_a_bad_value_not_a_crash():
    with pytest.raises(BadValue, match="not a timestamp"):
        to_epoch("next tuesday")
    assert to_date(T + 3600) == "2026-01-05"
    assert to_date(T - 1, "Asia/Tokyo") == "2026-01-05"
    assert to_date("2026-04-04") == "2026-04-04"


MAPPING = parse_mapping({
    "version": 2,
    "entities": {
        "member": {
            "table": "members", "stripe_object": "customer", "key": "ref",
            "where": "closed = 0", "null_key": {"ignore_when": "tier = 'free'"},
            "fields": {"email": "email",
                       "joined": {"column": "joined", "type": "timestamp", "stripe": None}},
        },
        "bill": {"table": "bills", "stripe_object": "invoice", "key": "inv",
                 "fields": {"total": {"column": "total", "type": "money", "unit": "major",
                                      "currency": "ccy"},
                            "renews": {"column": "renews", "type": "date",
                                       "stripe": "period_end"}}},
        "pay": {"table": "pays", "role": "applied_payments", "applies_to": "bill",
                "fields": {"bill": {"column": "bill_id", "type": "ref", "entity": "bill"},
                           "amount": {"column": "amount", "type": "money", "unit": "major",
                                      "currency": "bill.ccy"}}},
        "log": {"table": "hooks", "role": "event_log", "key": "evt",
                "fields": {"type": "kind",
                           "outcome": {"column": "result",
                                       "values": {"ok": "applied", "err": "failed"}}}},
    },
})


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "u.db"
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE members (id INTEGER PRIMARY KEY, email TEXT, ref TEXT, tier TEXT,
                              closed INTEGER, joined TEXT);
        INSERT INTO members VALUES
          (1, 'a@x', 'cus_A', 'paid', 0, '2026-03-04T10:15:00+01:00'),
          (2, 'b@x', NULL, 'free', 0, '1767571200'),
          (3, 'c@x', NULL, 'paid', 0, '2026-01-05 00:00:00'),
          (4, 'd@x', 'cus_D', 'paid', 1, '2026-01-05'),
          (5, 'e@x', 'cus_E', 'paid', 0, 'soon');
        CREATE TABLE bills (inv TEXT, total NUMERIC, ccy TEXT, renews TEXT);
        INSERT INTO bills VALUES ('in_1', '19.90', 'EUR', '2026-04-04'),
                                 ('in_2', '2900.00', 'JPY', NULL),
                                 ('in_2', '2900.00', 'JPY', NULL);
        CREATE TABLE pays (id INTEGER PRIMARY KEY, bill_id INTEGER, amount NUMERIC);
        INSERT INTO pays VALUES (1, 2, '2900.00'), (2, 1, '19.90');
        CREATE TABLE hooks (evt TEXT PRIMARY KEY, kind TEXT, result TEXT);
        INSERT INTO hooks VALUES ('evt_1', 'invoice.paid', 'ok'), ('evt_2', 'x', 'err');
    """)
    con.commit()
    con.close()
    return f"sqlite:///{path}"


def test_row_filters_local_only_rows_and_timestamps(db: str):
    user = open_user_system(db, MAPPING)
    frames = user.load()
    members = frames["member"].sort("local_key")
    # closed member 4 filtered (its Stripe customer is not expected either); free member 2
    # with no Stripe id ignored; paid member 3 with no Stripe id kept (matched or orphan)
    assert members["local_key"].to_list() == ["members:1", "members:3", "members:5"]
    assert user.excluded["member"] == ["cus_D"]
    assert members["joined"].to_list() == [1772615700, T, None]
    assert any("members.joined" in w and "row 5" in w and "soon" in w for w in user.warnings)


def test_duplicate_rows_without_a_primary_key_are_kept_with_distinct_addresses(db: str):
    bills = open_user_system(db, MAPPING).load(["bill"])["bill"]
    assert bills.height == 3
    assert bills["local_key"].n_unique() == 3
    assert bills.filter(bills["stripe_id"] == "in_2")["total"].to_list() == [2900, 2900]
    assert bills.filter(bills["stripe_id"] == "in_1")["total"].to_list() == [1990]
    assert bills.filter(bills["stripe_id"] == "in_1")["renews"].to_list() == ["2026-04-04"]


def test_applied_payments_read_their_currency_through_the_ref(db: str):
    pays = open_user_system(db, MAPPING).load(["pay"])["pay"].sort("local_key")
    assert pays["amount"].to_list() == [2900, 1990]  # JPY has no minor unit
    assert pays["bill"].to_list() == ["in_2", "in_1"]


def test_a_log_table_translates_its_words(db: str):
    log = open_user_system(db, MAPPING).load(["log"])["log"].sort("local_key")
    assert log["outcome"].to_list() == ["applied", "failed"]
