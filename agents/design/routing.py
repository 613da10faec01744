"""Design routing: pure functions returning the next node's label."""

from __future__ import annotations

from typing import Literal

from agents.design.state import DesignState


def after_rules(state: DesignState) -> Literal["retrieve", "save"]:
    # Free-text notes are the one input the rules cannot read; retrieval reads them.
    return "retrieve" if state["requirements"].get("notes", "").strip() else "save"
