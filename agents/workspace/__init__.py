"""The workspace's agent work: the architecture review of [E] run on an engagement's live
integration map, its findings stored as workspace review items."""

from agents.workspace.review import WorkspaceReview, review_engagement, review_input

__all__ = ["WorkspaceReview", "review_engagement", "review_input"]
