"""Account- and history-layer switches (several at once): the manifest lists what each one
changed, and the differences between the company DB and Stripe are exactly those."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter

from sandbox.world.build import MANIFEST, REPLICA_DB
from tests.sandbox.world.compare import differing_objects, orphans
from tests.sandbox.world.conftest import ACCOUNT_HISTORY


def _manifest(world):
    return json.loads((world / MANIFEST).read_text())


def test_every_switch_has_a_manifest_section_with_affected_objects(bugged_world):
    world, _info = bugged_world
    manifest = _manifest(world)
    assert sorted(manifest["switches"]) == sorted(ACCOUNT_HISTORY.split(","))
    for bug, section in manifest["switches"].items():
        assert section["objects"], bug


def test_differences_are_exactly_what_the_manifest_lists(bugged_world):
    world, _info = bugged_world
    switches = _manifest(world)["switches"]
    listed = set().union(*(set(s["objects"]) for s in switches.values()))
    found = differing_objects(world)
    assert found, "the switches changed nothing visible"
    assert {oid: why for oid, why in found.items() if oid not in listed} == {}
    assert listed - set(found) == set()
    # Each switch is seen.
    for bug in switches:
        assert set(found) & set(switches[bug]["objects"]), bug
    # FM-08: the only rows with nothing behind them in Stripe are the staging rows.
    assert orphans(world) == set(switches["FM-08"]["objects"])


def test_account_switches_leave_their_traces_in_stripe(bugged_world):
    world, _info = bugged_world
    switches = _manifest(world)["switches"]
    conn = sqlite3.connect(world / REPLICA_DB)
    pis = {row[0]: json.loads(row[1]) for row in conn.execute(
        "SELECT id, data FROM objects WHERE type='payment_intent'")}
    for entry in switches["FM-07"]["affected"]:
        first, second = pis[entry["first"]], pis[entry["object_id"]]
        assert first["metadata"]["order_id"] == second["metadata"]["order_id"]
        assert first["status"] == second["status"] == "succeeded"
    emails = Counter(json.loads(d)["email"] for (d,) in conn.execute(
        "SELECT data FROM objects WHERE type='customer'"))
    for entry in switches["FM-26"]["affected"]:
        assert emails[entry["email"]] == 2
    endpoint = json.loads(conn.execute(
        "SELECT data FROM objects WHERE type='webhook_endpoint'").fetchone()[0])
    assert endpoint["api_version"] == switches["FM-05"]["api_version"] == "2024-06-20"
    window = switches["FM-04"]["window"]
    for event_id in switches["FM-04"]["dropped_events"][:20]:
        attempts = conn.execute("SELECT status, at FROM deliveries WHERE event_id=?",
                                (event_id,)).fetchall()
        assert attempts and all(s is None and window["t1"] <= at <= window["t2"]
                                for s, at in attempts)
    conn.close()
