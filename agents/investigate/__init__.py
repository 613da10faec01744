"""The investigate graph: a chat loop over the registry's tools. Read tools run; a write or
money tool call interrupts for an engineer; a step budget bounds each turn; long histories
are compacted (older turns summarised, evidence ids kept)."""

from agents.investigate.graph import build_investigate_graph
from agents.investigate.run import ChatTurn, ask, resume_chat

__all__ = ["ChatTurn", "ask", "build_investigate_graph", "resume_chat"]
