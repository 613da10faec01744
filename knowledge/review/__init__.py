"""Architecture review: a YAML description (and/or an integration map) checked against
the pattern library's checklists."""

from knowledge.review.engine import review_architecture
from knowledge.review.model import Architecture, load_architecture
from knowledge.review.report import ReviewReport, Violation

__all__ = ["Architecture", "ReviewReport", "Violation", "load_architecture",
           "review_architecture"]
