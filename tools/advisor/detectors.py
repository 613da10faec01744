"""The detectors: each reads the whole log (sorted by time) and returns at most one finding
that aggregates every occurrence, with the observed and avoidable calls it counted.

Thresholds are stated here once; the explanation of each finding repeats the rule so an
engineer can check it against the evidence.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from tools.advisor.model import FindingKind, RequestRecord, Severity
from tools.advisor.paths import EXPANDABLE, classify

__all__ = ["DETECTORS", "EVIDENCE_CAP", "Hit"]

POLL_MIN_CALLS = 5  # same GET this many times at a steady cadence is polling
POLL_STEADY_SHARE = 0.8  # share of intervals within [median/2, median*2]
N_PLUS_ONE_WINDOW = 60  # seconds after a list in which per-item retrieves count
N_PLUS_ONE_MIN = 3  # distinct related objects retrieved after one list
DEFAULT_PAGE = 10  # Stripe's page size when `limit` is absent
MAX_PAGE = 100
BURST_GAP = 60  # 429s closer than this belong to one burst
BURST_MIN = 3
SEARCH_LAG = 3600  # Stripe: search results may lag writes by up to an hour
_CURSORS = ("starting_after", "ending_before")
EVIDENCE_CAP = 12


@dataclass
class Hit:
    """A detector's raw result; `advise` turns it into a finding with calls per day."""

    kind: FindingKind
    severity: Severity
    summary: str
    explanation: str
    fix: str
    records: list[RequestRecord]  # every request showing the problem
    avoidable: int
    notes: list[str]  # extra evidence lines (paths, versions, bursts)


def _ok(r: RequestRecord) -> bool:
    return 200 <= r.status < 300


def polling(log: list[RequestRecord]) -> Hit | None:
    groups: dict[tuple, list[RequestRecord]] = defaultdict(list)
    for r in log:
        if r.method == "GET" and _ok(r) and classify(r.method, r.path).op in ("retrieve", "list"):
            groups[(r.account, r.path, r.query)].append(r)
    polled: list[list[RequestRecord]] = []
    for calls in groups.values():
        if len(calls) < POLL_MIN_CALLS:
            continue
        gaps = sorted(b.at - a.at for a, b in zip(calls, calls[1:], strict=False))
        median = gaps[len(gaps) // 2]
        steady = sum(1 for g in gaps if median / 2 <= g <= median * 2)
        if median >= 1 and steady >= POLL_STEADY_SHARE * len(gaps):
            polled.append(calls)
    if not polled:
        return None
    notes = [f"{c[0].method} {c[0].path}{'?' + c[0].query if c[0].query else ''}: "
             f"{len(c)} calls every ~{_median_gap(c)} s" for c in polled]
    records = [r for c in polled for r in c]
    return Hit(
        "polling_instead_of_webhooks", "medium",
        f"{len(polled)} object(s)/list(s) polled at a steady cadence ({len(records)} calls)",
        f"The same GET repeated ≥{POLL_MIN_CALLS} times at a regular interval is polling. A "
        "webhook tells the integration when the object changes; it then reads it once. The "
        "estimate keeps one read per polled object in the window.",
        "Subscribe a webhook endpoint to the object's events (e.g. payment_intent.succeeded, "
        "payment_intent.payment_failed) and fetch the object when its event arrives.",
        records, sum(len(c) - 1 for c in polled), notes)


def _median_gap(calls: list[RequestRecord]) -> int:
    gaps = sorted(b.at - a.at for a, b in zip(calls, calls[1:], strict=False))
    return gaps[len(gaps) // 2]


def n_plus_one(log: list[RequestRecord]) -> Hit | None:
    claimed: set[str] = set()
    patterns: dict[tuple[str, str, str], list[RequestRecord]] = defaultdict(list)
    lists: dict[tuple[str, str, str], list[RequestRecord]] = defaultdict(list)
    for i, lst in enumerate(log):
        call = classify(lst.method, lst.path)
        if lst.method != "GET" or not _ok(lst) or call.op != "list":
            continue
        related = EXPANDABLE.get(call.resource, {})
        expanded = set(lst.params().get("expand", []))
        follow: dict[str, list[RequestRecord]] = defaultdict(list)
        for r in log[i + 1:]:
            if r.at - lst.at > N_PLUS_ONE_WINDOW:
                break
            c = classify(r.method, r.path)
            if (r.method == "GET" and _ok(r) and c.op == "retrieve" and r.account == lst.account
                    and c.resource in related and r.request_id not in claimed
                    and f"data.{related[c.resource]}" not in expanded):
                follow[c.resource].append(r)
        for resource, retrieves in follow.items():
            if len({classify(r.method, r.path).object_id for r in retrieves}) < N_PLUS_ONE_MIN:
                continue
            key = (call.resource, resource, related[resource])
            patterns[key].extend(retrieves)
            lists[key].append(lst)
            claimed.update(r.request_id for r in retrieves)
    if not patterns:
        return None
    notes = [f"GET /v1/{lst_res} ×{len(lists[(lst_res, res, field)])} then GET /v1/{res}/{{id}} "
             f"×{len(calls)} → expand[]=data.{field}"
             for (lst_res, res, field), calls in patterns.items()]
    records = [r for key in patterns for r in (*lists[key], *patterns[key])]
    avoidable = sum(len(calls) for calls in patterns.values())
    return Hit(
        "n_plus_one_retrieves", "medium",
        f"{avoidable} per-item retrieves after list calls that `expand` would remove",
        f"A list call followed within {N_PLUS_ONE_WINDOW} s by retrieves of ≥{N_PLUS_ONE_MIN} "
        "related objects that the list could have expanded: one extra call per item.",
        "Pass expand[]=data.<field> on the list call (up to 4 levels deep) and drop the "
        "per-item retrieves.",
        records, avoidable, notes)


def list_without_limit(log: list[RequestRecord]) -> Hit | None:
    walks: dict[tuple, list[list[RequestRecord]]] = defaultdict(list)
    for r in log:
        if r.method != "GET" or not _ok(r) or classify(r.method, r.path).op != "list":
            continue
        params = r.params()
        key = (r.account, r.path,
               tuple(sorted((k, tuple(v)) for k, v in params.items() if k not in _CURSORS)))
        if any(c in params for c in _CURSORS) and walks[key]:
            walks[key][-1].append(r)
        else:
            walks[key].append([r])
    flagged: list[tuple[list[RequestRecord], int, int]] = []
    for series in walks.values():
        for walk in series:
            limit = walk[0].param("limit")
            page = int(limit) if limit and limit.isdigit() else DEFAULT_PAGE
            if limit is None or (len(walk) >= 2 and page < MAX_PAGE):
                needed = -(-len(walk) * page // MAX_PAGE)  # ceil: rows seen, 100 a page
                flagged.append((walk, page, len(walk) - max(needed, 1)))
    if not flagged:
        return None
    notes = [f"GET {w[0].path}: {len(w)} page(s) of {page} (limit "
             f"{w[0].param('limit') or 'absent'}), {saved} avoidable" for w, page, saved in flagged]
    records = [r for w, _, _ in flagged for r in w]
    avoidable = sum(saved for _, _, saved in flagged)
    return Hit(
        "list_without_limit", "low",
        f"{len(flagged)} list walk(s) without limit=100 ({len(records)} calls)",
        f"A list without `limit` returns {DEFAULT_PAGE} items a page; paging with a small "
        f"limit costs one call per page. Avoidable per walk = pages − ceil(pages × page size "
        f"÷ {MAX_PAGE}).",
        "Pass limit=100 on list calls that page (auto-pagination keeps it) and filter "
        "server-side (created[gte], customer, status) instead of reading everything.",
        records, avoidable, notes)


def missing_idempotency_key(log: list[RequestRecord]) -> Hit | None:
    bare = [r for r in log if r.method == "POST" and not r.idempotency_key]
    if not bare:
        return None
    by_path = Counter(f"POST /v1/{classify(r.method, r.path).resource}" for r in bare)
    return Hit(
        "missing_idempotency_key", "high",
        f"{len(bare)} POST request(s) without an Idempotency-Key",
        "A POST retried after a timeout or connection error without a key can create a second "
        "object (a second charge, refund or subscription). Keys remove no calls — the value "
        "is safety — so calls saved is 0.",
        "Send a deterministic Idempotency-Key on every POST (derived from your own order or "
        "job id, ≤255 chars); the official SDKs add one when retries are on.",
        bare, 0, [f"{path}: {n}" for path, n in by_path.most_common()])


def rate_limit_burst(log: list[RequestRecord]) -> Hit | None:
    limited = [r for r in log if r.status == 429]
    bursts: list[list[RequestRecord]] = []
    for r in limited:
        if bursts and r.at - bursts[-1][-1].at <= BURST_GAP:
            bursts[-1].append(r)
        else:
            bursts.append([r])
    bursts = [b for b in bursts if len(b) >= BURST_MIN]
    if not bursts:
        return None
    records = [r for b in bursts for r in b]
    return Hit(
        "rate_limit_burst", "high",
        f"{len(bursts)} burst(s) of 429 answers ({len(records)} rejected calls)",
        f"≥{BURST_MIN} rate-limited answers less than {BURST_GAP} s apart: the client sends "
        "faster than the account's limit (about 100 req/s live, 25 in sandboxes, lower per "
        "endpoint) and every 429 is a wasted call.",
        "Throttle on the client with a token bucket per account, honour Retry-After, back off "
        "with jitter, and spread backfills (see pattern backfill-rate-limits).",
        records, len(records),
        [f"{len(b)}× 429 from {b[0].at} to {b[-1].at} on "
         f"{', '.join(sorted({r.path for r in b}))}" for b in bursts])


def search_read_after_write(log: list[RequestRecord]) -> Hit | None:
    found: list[tuple[RequestRecord, RequestRecord]] = []
    last_write: dict[tuple[str | None, str], RequestRecord] = {}
    for r in log:
        call = classify(r.method, r.path)
        key = (r.account, call.resource)
        if r.method == "POST" and _ok(r) and call.op in ("create", "update"):
            last_write[key] = r
        elif call.op == "search" and key in last_write and r.at - last_write[key].at <= SEARCH_LAG:
            found.append((last_write[key], r))
    if not found:
        return None
    return Hit(
        "search_read_after_write", "medium",
        f"{len(found)} search call(s) within {SEARCH_LAG // 60} min of a write to the same "
        "resource",
        "Search results can lag writes by up to an hour, so a search right after a create or "
        "update may miss the object (and gets retried). The write's response already holds "
        "the object, so each such search is avoidable.",
        "Use the object (and id) returned by the create/update, or retrieve it by id; keep "
        "search for look-ups that tolerate the lag, and store your own keys in metadata.",
        [s for _, s in found], len(found),
        [f"{w.method} {w.path} ({w.request_id}) at {w.at} → GET {s.path}?{s.query} "
         f"({s.request_id}) at {s.at}" for w, s in found[:EVIDENCE_CAP]])


def api_version_spread(log: list[RequestRecord]) -> Hit | None:
    versions = Counter(r.api_version for r in log if r.api_version)
    if len(versions) < 2:
        return None
    main, _ = versions.most_common(1)[0]
    others = [r for r in log if r.api_version and r.api_version != main]
    return Hit(
        "api_version_spread", "medium",
        f"{len(versions)} API versions in use: " + ", ".join(sorted(versions)),
        "Requests pinned to different Stripe-Version values get differently shaped objects; "
        "code written for one version misreads the other, and webhook endpoints send yet "
        "another. Calls saved is 0 — the cost is correctness.",
        "Pin one API version in every client (the SDK's default or an explicit "
        "stripe_version) and the webhook endpoints; upgrade all of them together.",
        others, 0, [f"{v}: {n} request(s)" for v, n in versions.most_common()])


DETECTORS: tuple[Callable[[list[RequestRecord]], Hit | None], ...] = (
    polling, n_plus_one, list_without_limit, missing_idempotency_key, rate_limit_burst,
    search_read_after_write, api_version_spread,
)
