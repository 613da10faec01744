"""The map built from a world: nodes and edge health, renderings, versioned snapshots, and
drift between two versions."""

from __future__ import annotations

import dataclasses

import pytest

from core.settings import load_settings
from core.storage import open_database
from tests.tools.checks.worlds import build, context
from tools.map import build_map, drift, to_html, to_mermaid
from tools.map.store import latest, save_snapshot, versions


@pytest.fixture(scope="module")
def world_ctx(tmp_path_factory):
    return context(build(tmp_path_factory.mktemp("map") / "world", "FM-04,FM-05"))


def test_map_nodes_edges_and_health(world_ctx):
    m = build_map(world_ctx, tables={"customer": "accounts", "invoice": "invoices"})
    kinds = {n.kind for n in m.nodes}
    assert {"endpoint", "event_type", "price", "product", "payment_method", "account",
            "api_version", "stripe_object", "table"} <= kinds
    (ep,) = [n for n in m.nodes if n.kind == "endpoint"]
    assert ep.attrs["api_version"] == "2024-06-20"
    delivered = [e for e in m.edges if e.kind == "delivered_to" and e.health]
    assert delivered and all(e.health.last_seen for e in delivered)
    assert any((e.health.success_rate or 1) < 1 and e.health.last_error for e in delivered)
    pm = {n.label: n.attrs for n in m.nodes if n.kind == "payment_method"}
    assert "card" in pm and pm["card"]["currencies"]
    assert to_mermaid(m).startswith("flowchart LR") and "<svg" in to_html(m)


def test_snapshots_are_versioned_and_drift_lists_the_changes(world_ctx, tmp_path):
    db = open_database(load_settings(database_url=f"sqlite:///{tmp_path / 'm.db'}"))
    v1 = build_map(world_ctx)
    ep = dict(world_ctx.endpoints[0])
    ep.update(status="disabled", api_version="2026-10-28.endive",
              enabled_events=["invoice.paid"])
    ctx2 = dataclasses.replace(world_ctx, objects={**world_ctx.objects, "webhook_endpoint": [ep],
                    "charge": [*world_ctx.of("charge"), {
                        "id": "ch_new", "object": "charge", "currency": "eur",
                        "payment_method_details": {"type": "au_becs_debit"}}]})
    v2 = build_map(ctx2)
    with db.session() as s:
        assert save_snapshot(s, "acme", v1).version == 1
        assert save_snapshot(s, "acme", v1).version == 1  # unchanged: not stored again
        assert save_snapshot(s, "acme", v2).version == 2
        assert versions(s, "acme") == [1, 2] and latest(s, "acme").version == 2
    kinds = {d.kind for d in drift(v1, v2)}
    assert {"endpoint_disabled", "event_type_dropped", "api_version_changed",
            "payment_method_without_handler"} <= kinds
    assert drift(v1, v1) == []
    db.dispose()
