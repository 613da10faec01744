"""The engagement workspace: contacts on the user's side, meeting notes, the decision log
(exportable as ADRs), architecture review items tracked to resolution, and one timeline
merging everything that happened to the engagement — all searchable."""

from tools.workspace import reviews, store
from tools.workspace.adr import AdrFile, export_adrs
from tools.workspace.search import search
from tools.workspace.timeline import timeline

__all__ = ["AdrFile", "export_adrs", "reviews", "search", "store", "timeline"]
