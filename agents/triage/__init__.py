"""The triage graph: intake → redact → classify → gather → diagnose → verify → route →
auto-resolve, or escalate (interrupt) → execute the approved action → finish."""

from agents.triage.graph import build_triage_graph
from agents.triage.run import TriageResult, resume_triage, start_triage

__all__ = ["TriageResult", "build_triage_graph", "resume_triage", "start_triage"]
