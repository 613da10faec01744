"""The learning loop: confirmed lessons become draft patterns, check stubs or eval
scenarios, and only an engineer's approval puts them into a library."""

from knowledge.learning.model import Draft, DraftKind, Lesson
from knowledge.learning.store import (
    approve_draft,
    get_draft,
    list_drafts,
    propose,
    reject_draft,
)

__all__ = ["Draft", "DraftKind", "Lesson", "approve_draft", "get_draft", "list_drafts",
           "propose", "reject_draft"]
