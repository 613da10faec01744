"""Review routing: pure functions returning the next node's label."""

from __future__ import annotations

from typing import Literal

from agents.review.state import ReviewState


def after_review(state: ReviewState) -> Literal["retrieve", "report"]:
    return "retrieve" if state["report"]["violations"] else "report"
