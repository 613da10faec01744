"""Operations: test/live mix-ups, incomplete backfills, duplicates from search-then-create."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from tools.checks.context import CheckContext
from tools.checks.declare import check
from tools.checks.model import Check, Finding

_KEYED = ("customer", "subscription", "invoice", "payment", "refund", "dispute", "order")
_SEARCH_LAG = 60


@check("ops.test_live_separation", "FM-08", "Rows from the other mode in the user DB",
       severity="critical", products=("Payments", "Billing", "Connect"),
       patterns=("test-live-separation", "key-management"), discrepancy_class="ENV_MISMATCH",
       fix="""Quarantine the rows whose Stripe ids this account does not know (and their
       entitlements); confirm with a key of the other mode.""",
       systemic_fix="""One key mode per environment asserted at start-up; handlers check
       event.livemode; ids stored with their mode.""")
def mode_mixup(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    expected = ctx.profile.expected_livemode
    for entity in _KEYED:
        for row in ctx.rows(entity):
            sid = row.get("stripe_id")
            if not sid:
                continue
            wrong_mode = expected is not None and row.get("livemode") is not None and (
                bool(row["livemode"]) != expected)
            unknown = ctx.get(sid) is None
            if wrong_mode or unknown:
                grants = [e.get("local_key") for e in ctx.entitlements(sid)]
                why = "livemode differs from the engagement" if wrong_mode else (
                    "the id does not exist in this Stripe account")
                yield c.finding(sid, [sid, row.get("local_key"), *grants],
                                f"{entity} row {row.get('local_key')} references {sid}: {why} "
                                "(written by another environment?).",
                                details={"entity": entity})


@check("ops.backfill_checkpoints", "FM-25", "Objects never loaded locally (backfill died)",
       severity="high", products=("Billing", "Payments"),
       patterns=("backfill-rate-limits",), discrepancy_class="MISSING_LOCAL",
       needs=frozenset({"stripe", "events", "local"}),
       needs_any=frozenset({"processed", "export", "pending"}),
       fix="Resume the backfill from a cursor (fde recon sync + repair plan for MISSING_LOCAL).",
       systemic_fix="""Backfills checkpoint their cursor, use a client-side rate limiter and
       retry 429/lock_timeout with backoff.""")
def backfill_gap(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    """Objects that existed before the handler went live (the first event its processed-event
    log, or an attempt export, shows), that no webhook ever tried to deliver, and that have
    no local row: only the backfill could have loaded them. A customer that is the remote
    twin of a linked customer (same user_id or email) is a search-then-create duplicate
    (FM-26), not a backfill gap."""
    go_live = ctx.delivery.go_live
    if go_live is None:
        return
    linked = _linked_customer_keys(ctx)
    twins = _later_twins(ctx)
    for entity, otype in (("customer", "customer"), ("subscription", "subscription"),
                          ("invoice", "invoice")):
        if entity not in ctx.local:
            continue
        missing = []
        for obj in ctx.of(otype):
            if (obj.get("created") or 0) >= go_live or obj.get("deleted"):
                continue
            if ctx.row(entity, obj["id"]) is not None:
                continue
            if any(_tried(ctx, e) for e in ctx.events_for(obj["id"])):
                continue  # a webhook was tried: a delivery problem, not the backfill
            if otype == "customer" and (obj["id"] in twins or _customer_keys(obj) & linked):
                continue  # a second customer for the same user: FM-26, not the backfill
            missing.append(obj)
        if missing:
            missing.sort(key=lambda o: (o.get("created") or 0, o["id"]))
            first, cutoff = missing[0].get("created") or 0, missing[-1].get("created") or 0
            yield c.finding(f"backfill:{entity}", [o["id"] for o in missing],
                            f"{len(missing)} {otype} objects created before the handler went "
                            f"live ({go_live}; from {first} to {cutoff}) were never delivered "
                            "by a webhook and are missing locally: the backfill stopped early.",
                            details={"missing": len(missing), "go_live": go_live,
                                     "first": first, "cutoff": cutoff,
                                     "sources": ctx.delivery.label("processed_log",
                                                                   "events_api", "export")})


def _tried(ctx: CheckContext, ev: dict) -> bool:
    """A webhook tried this event: the handler logged it, an export shows an attempt, or it
    is still unacknowledged (pending_webhooks 0 before go-live only says no endpoint
    existed yet)."""
    return bool(ctx.delivery.logged(ev["id"]) or ctx.delivery.exported(ev["id"])
                or ctx.delivery.unacknowledged(ev))


def _customer_keys(cus: dict) -> set[tuple]:
    account = cus.get("_account")
    keys = set()
    if user := (cus.get("metadata") or {}).get("user_id"):
        keys.add((account, "user", str(user)))
    if email := str(cus.get("email") or "").strip().lower():
        keys.add((account, "email", email))
    return keys


def _later_twins(ctx: CheckContext) -> set[str]:
    """Customers created within the search lag after another one with the same user_id or
    email (the second half of a search-then-create race)."""
    first_seen: dict[tuple, int] = {}
    out = set()
    for cus in sorted(ctx.of("customer"), key=lambda o: (o.get("created") or 0, o["id"])):
        if cus.get("deleted"):
            continue
        created = cus.get("created") or 0
        keys = _customer_keys(cus)
        if any(k in first_seen and created - first_seen[k] <= _SEARCH_LAG for k in keys):
            out.add(cus["id"])
        for k in keys:
            first_seen.setdefault(k, created)
    return out


def _linked_customer_keys(ctx: CheckContext) -> set[tuple]:
    """user_id / email of every customer the user DB links (from Stripe and from the row)."""
    keys: set[tuple] = set()
    for row in ctx.rows("customer"):
        obj = ctx.get(row.get("stripe_id"))
        if obj is not None:
            keys |= _customer_keys(obj)
            account = obj.get("_account")
        else:
            account = row.get("account")
        if email := str(row.get("email") or "").strip().lower():
            keys.add((account, "email", email))
    return keys


@check("ops.no_search_read_after_write", "FM-26", "Duplicate customers from "
       "search-then-create", severity="medium", products=("Billing", "Payments"),
       patterns=("search-api-read-after-write", "idempotency-keys"),
       discrepancy_class="DUPLICATE_REMOTE", needs=frozenset({"stripe"}),
       fix="Merge the duplicate customers (move payment methods/subscriptions, delete one).",
       systemic_fix="""Keep your own user → customer mapping and create with an idempotency
       key derived from the user; never find-or-create through the Search API.""")
def duplicate_customers(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for cus in ctx.of("customer"):
        if cus.get("deleted"):
            continue
        key = ((cus.get("metadata") or {}).get("user_id") or
               str(cus.get("email") or "").lower())
        if key:
            groups[(cus.get("_account"), key)].append(cus)
    for (account, key), members in groups.items():
        members.sort(key=lambda m: m.get("created") or 0)
        if len(members) > 1 and members[-1]["created"] - members[0]["created"] <= _SEARCH_LAG:
            yield c.finding(f"{account}:{key}", [m["id"] for m in members],
                            f"{len(members)} customers for the same signup ({key}) created "
                            f"{members[-1]['created'] - members[0]['created']} s apart.")


CHECKS = [mode_mixup, backfill_gap, duplicate_customers]
