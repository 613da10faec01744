"""Integration performance advisor: reads the API calls a company's code makes to Stripe —
its own OpenTelemetry client spans (OTLP JSON) or an exported request log (JSONL/CSV) — and
finds what costs calls: polling instead of webhooks, N+1 retrieves, small or missing page
sizes, 429 bursts, search used to read a write back — plus the correctness gaps the same log
shows (POSTs without idempotency keys, API version spread). Every finding carries its
evidence and the calls it would save per day."""

from tools.advisor.advise import advise
from tools.advisor.logfile import calls_path, load_request_log
from tools.advisor.model import Advice, AdviceFinding, FindingKind, RequestRecord

__all__ = [
    "Advice",
    "AdviceFinding",
    "FindingKind",
    "RequestRecord",
    "advise",
    "calls_path",
    "load_request_log",
]
