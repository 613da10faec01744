"""Autopilot: every engagement synced, mapped, checked and reconciled on a schedule; new
problems become cases, triaged by the triage graph; repairs the policy allows are applied
and verified; everything else escalates to a person, with signed notifications.

    policy / policy_store   per-engagement YAML policy (approver role, audited)
    schedule / queue        ticks with seeded jitter; the job table (SKIP LOCKED, leases)
    budget                  per-account rate budgets shared by every engagement
    jobs / handle           what each job kind does; cases → triage → repair → verify
    shadow                  the declared shadow test, re-run per integration.yaml version
    cases / sink / triager  case dedupe, the escalation seam, the triage graph on a case
    notify / health / status signed webhooks + digests, scorecards, what ran / late / failed
    engine                  the in-process scheduler and the worker loop
"""

from agents.autopilot.engine import Autopilot, AutopilotDeps, JobRecord, TickReport
from agents.autopilot.policy import Policy, PolicyError, parse_policy
from agents.autopilot.shadow import DeclaredShadow, ShadowOutcome, ShadowRunner
from agents.autopilot.sink import CaseTableSink, EscalationPayload, EscalationSink
from agents.autopilot.triager import GraphTriager, TriageOutcome, Triager

__all__ = [
    "Autopilot", "AutopilotDeps", "CaseTableSink", "EscalationPayload", "EscalationSink",
    "DeclaredShadow", "GraphTriager", "JobRecord", "Policy", "PolicyError", "ShadowOutcome",
    "ShadowRunner", "TickReport", "TriageOutcome", "Triager", "parse_policy",
]
