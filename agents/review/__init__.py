"""The review graph: load an architecture (YAML) → run the checklist rules → for each
violated item retrieve related patterns from the knowledge index → write the report."""

from agents.review.graph import build_review_graph
from agents.review.run import ReviewResult, review_tools, run_review
from agents.review.store import LexicalPatternIndex

__all__ = ["LexicalPatternIndex", "ReviewResult", "build_review_graph", "review_tools",
           "run_review"]
