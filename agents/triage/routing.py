"""Triage routing: pure functions returning the next node's label."""

from __future__ import annotations

from typing import Literal

from agents.escalation import CONFIRM
from agents.triage.state import TriageState


def after_gather(state: TriageState) -> Literal["gather", "diagnose"]:
    return "gather" if state.get("gathering") else "diagnose"


def after_verify(state: TriageState) -> Literal["auto_resolve", "escalate"]:
    d = state["diagnosis"]
    if d["outcome"] != "diagnosed":
        return "auto_resolve"
    if d["needs_judgment"] or d["actions"]:
        return "escalate"
    return "auto_resolve"


def after_escalate(state: TriageState) -> Literal["execute", "finish"]:
    decision = state.get("decision") or {}
    if decision.get("type") in ("approve", "edit") and decision.get("action") not in (None,
                                                                                      CONFIRM):
        return "execute"
    return "finish"
