"""Snapshot wiring (STYLE 14): each graph's mermaid drawing equals the stored one. After an
intended wiring change, regenerate with FDE_UPDATE_SNAPSHOTS=1 and review the diff."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agents.investigate import build_investigate_graph
from agents.review import build_review_graph
from agents.triage import build_triage_graph

SNAPSHOTS = Path(__file__).with_name("snapshots")
GRAPHS = {"triage": build_triage_graph, "investigate": build_investigate_graph,
          "review": build_review_graph}


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_graph_wiring_matches_snapshot(name: str):
    drawn = GRAPHS[name]().get_graph().draw_mermaid()
    path = SNAPSHOTS / f"{name}.mmd"
    if os.environ.get("FDE_UPDATE_SNAPSHOTS") == "1":
        path.write_text(drawn)
    assert drawn == path.read_text(), f"{name} graph wiring changed; see {path}"
