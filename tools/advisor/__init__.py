"""Integration performance advisor: reads an account's API request log (the replica's, or
an exported file) and finds what costs calls — polling instead of webhooks, N+1 retrieves,
small or missing page sizes, 429 bursts, search used to read a write back — plus the
correctness gaps the same log shows (POSTs without idempotency keys, API version spread).
Every finding carries its evidence and the calls it would save per day."""

from tools.advisor.advise import advise
from tools.advisor.logfile import load_request_log
from tools.advisor.model import Advice, AdviceFinding, FindingKind, RequestRecord
from tools.advisor.source import fetch_replica_log

__all__ = [
    "Advice",
    "AdviceFinding",
    "FindingKind",
    "RequestRecord",
    "advise",
    "fetch_replica_log",
    "load_request_log",
]
