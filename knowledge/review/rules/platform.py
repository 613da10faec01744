"""Review rules: Keys, environments, idempotency, rate limits."""

from __future__ import annotations

from knowledge.review.model import Architecture
from knowledge.review.rules import Outcome, bad, flag, ok, rule


# -- keys and environments -----------------------------------------------------------------
@rule("ops.test_live_separation")
def _modes(a: Architecture) -> Outcome | None:
    e = a.stripe.environments
    if e is None:
        return None
    return ok("stripe.environments = separate_keys") if e == "separate_keys" else bad(
        f"stripe.environments = {e}")


@rule("ops.restricted_keys")
def _restricted(a: Architecture) -> Outcome | None:
    k = a.stripe.keys.kind
    if k is None:
        return None
    return ok("stripe.keys.kind = restricted") if k == "restricted" else bad(
        f"stripe.keys.kind = {k}")


@rule("ops.key_storage_secret_manager")
def _storage(a: Architecture) -> Outcome | None:
    s = a.stripe.keys.storage
    if s is None:
        return None
    return ok(f"stripe.keys.storage = {s}") if s == "secret_manager" else bad(
        f"stripe.keys.storage = {s}")


@rule("ops.key_rotation")
def _rotation(a: Architecture) -> Outcome | None:
    return flag(a.stripe.keys.rotation, "stripe.keys.rotation")


@rule("ops.idempotency_key_on_writes")
def _idem(a: Architecture) -> Outcome | None:
    k = a.stripe.idempotency_keys
    if k is None:
        return None
    return bad("stripe.idempotency_keys = none") if k == "none" else ok(
        f"stripe.idempotency_keys = {k}")


@rule("ops.idempotency_key_deterministic")
def _idem_det(a: Architecture) -> Outcome | None:
    k = a.stripe.idempotency_keys
    if k is None or k == "none":
        return None
    return ok() if k == "deterministic" else bad(f"stripe.idempotency_keys = {k}")


@rule("ops.no_search_read_after_write")
def _search(a: Architecture) -> Outcome | None:
    s = a.stripe.search_read_after_write
    if s is None:
        return None
    return bad("stripe.search_read_after_write = true") if s else ok()


@rule("ops.rate_limiter_client_side")
def _limiter(a: Architecture) -> Outcome | None:
    rps = a.backfill.rate_limit_rps if a.backfill else a.stripe.rate_limit_rps
    if rps is None:
        return None
    where = "backfill.rate_limit_rps" if a.backfill else "stripe.rate_limit_rps"
    return bad(f"{where} = {rps} (live limit ~100/s shared with production traffic)") \
        if rps > 100 else ok(f"{where} = {rps}")


@rule("ops.retry_429_backoff")
def _retry(a: Architecture) -> Outcome | None:
    if a.backfill and a.backfill.handles_429 is not None:
        return flag(a.backfill.handles_429, "backfill.handles_429")
    return flag(a.stripe.retries_429, "stripe.retries_429")


@rule("ops.backfill_checkpoints")
def _checkpoints(a: Architecture) -> Outcome | None:
    return flag(a.backfill.checkpoints, "backfill.checkpoints") if a.backfill else None
