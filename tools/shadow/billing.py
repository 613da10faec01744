"""A billing parallel run: the legacy system's invoices next to Stripe's for the same
customers and periods — Stripe's upcoming-invoice previews (``create_preview``, before a
cut-over) or its finalized invoices (after) — matched by customer + period, every difference
explained by cause (`causes.py`) and folded into a `ShadowRun` (mode ``billing_parallel``).

Matching: the legacy period's first day equals the Stripe service period's first day (UTC)
and its last day is the Stripe period's end, or the day before (legacy exports often write
inclusive end dates). Whatever finds no partner is reported as UNMATCHED.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field

from core.errors import StripeAuthError, StripeRequestError, StripeUnreachable
from core.ids import new_id
from tools.shadow.causes import Cause, StripeInvoice, explain, view_invoice
from tools.shadow.legacy import LegacyInvoice, legacy_hash
from tools.shadow.models import Mismatch, MoneyImpact, RunInfo, ShadowRun, Verdict
from tools.stripe.gateway import StripeGateway

__all__ = ["BillingOptions", "run_billing_parallel"]

TOP = 10
FINALIZED = ("open", "paid", "uncollectible")
StripeSide = Literal["preview", "invoices"]
T = TypeVar("T")


class BillingOptions(BaseModel):
    stripe: StripeSide = "preview"
    engagement: str | None = None
    source: str = "legacy"  # the legacy file or plugin, for the report
    customers: list[str] = Field(default_factory=list)  # only these (a repro's focus)
    repro: str = "fde shadow billing"


class _Unavailable(Exception):
    """Stripe could not answer at all (unreachable, key refused): the run is inconclusive."""


def _day(ts: int) -> date:
    return datetime.fromtimestamp(ts, UTC).date()


def _pairs(legacy: LegacyInvoice, stripe: StripeInvoice) -> bool:
    end = _day(stripe.period_end)
    return legacy.customer == stripe.customer and legacy.period_start == _day(
        stripe.period_start) and legacy.period_end in (end, end - timedelta(days=1))


class _StripeSide:
    def __init__(self, gateway: StripeGateway) -> None:
        self.gateway = gateway
        self.metered: dict[str, bool] = {}
        self.refusals: dict[int, str] = {}  # legacy row index -> why Stripe has no preview

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return fn(*args)
        except (StripeUnreachable, StripeAuthError) as exc:
            raise _Unavailable(str(exc)) from None

    def _view(self, invoice: dict[str, Any]) -> StripeInvoice:
        for line in (invoice.get("lines") or {}).get("data") or []:
            price = ((line.get("pricing") or {}).get("price_details") or {}).get("price")
            if price and price not in self.metered:
                obj = self._call(self.gateway.retrieve, price)
                self.metered[price] = (obj.get("recurring") or {}).get("usage_type") == "metered"
        return view_invoice(invoice, {p for p, m in self.metered.items() if m})

    def _queries(self, row: LegacyInvoice) -> list[dict[str, str]]:
        if row.subscription:
            return [{"subscription": row.subscription}]
        # Not told which subscription: every live one of the customer (the list leaves out
        # canceled ones), else the customer's pending items.
        subs = self._call(lambda c: [s["id"] for s in self.gateway.list_all(
            "/v1/subscriptions", {"customer": c})], row.customer)
        return [{"subscription": s} for s in subs] or [{"customer": row.customer}]

    def previews(self, legacy: list[LegacyInvoice]) -> list[list[StripeInvoice]]:
        """Per legacy row, the upcoming invoices it may correspond to."""
        out: list[list[StripeInvoice]] = []
        for n, row in enumerate(legacy):
            found = []
            for params in self._queries(row):
                try:
                    found.append(self._view(self._call(self.gateway.preview_invoice, params)))
                except StripeRequestError as exc:  # e.g. no upcoming invoice: a difference
                    self.refusals[n] = str(exc)
            out.append(found)
        return out

    def invoices(self, legacy: list[LegacyInvoice]) -> list[StripeInvoice]:
        lo = min(r.period_start for r in legacy)
        hi = max(r.period_end for r in legacy)
        out = []
        for customer in sorted({r.customer for r in legacy}):
            listed = self._call(lambda c: list(self.gateway.list_all(
                "/v1/invoices", {"customer": c})), customer)
            for inv in listed:
                if inv.get("status") not in FINALIZED:
                    continue
                view = self._view(inv)
                if lo <= _day(view.period_start) <= hi:
                    out.append(view)
        return out


def _mismatch(lg: LegacyInvoice | None, st: StripeInvoice | None, causes: list[Cause],
              detail: str) -> Mismatch:
    diff = (st.total if st else 0) - (lg.total if lg else 0)
    where = lg or st
    assert where is not None
    ref = f" (legacy {lg.reference})" if lg and lg.reference else ""
    line = f" line {lg.source_line}" if lg and lg.source_line else ""
    period = f"{lg.period_start}..{lg.period_end}" if lg else \
        f"{_day(st.period_start)}..{_day(st.period_end)}" if st else ""
    return Mismatch(
        kind="billing", invariant="billing_matches_legacy", object_id=where.customer,
        event_id=st.id if st else None, causes=[c.value for c in causes],
        detail=f"{where.customer} {period}{ref}{line}: {detail}",
        primary=lg.total if lg else None, candidate=st.total if st else None,
        amount_minor=abs(diff), currency=where.currency)


def _compare(legacy: list[LegacyInvoice], stripe: list[StripeInvoice],
             previews: list[list[StripeInvoice]] | None,
             refusals: dict[int, str]) -> tuple[list[Mismatch], int]:
    mismatches: list[Mismatch] = []
    used: set[int] = set()
    equal = 0
    for n, lg in enumerate(legacy):
        if previews is not None:
            candidates = list(enumerate(previews[n]))
        else:
            candidates = [(i, s) for i, s in enumerate(stripe) if i not in used]
        match = next(((i, s) for i, s in candidates if _pairs(lg, s)), None)
        if match is None:
            why = refusals.get(n)
            if previews is not None and previews[n]:
                why = "Stripe's upcoming invoice " + ", ".join(
                    f"{p.id} covers {_day(p.period_start)}..{_day(p.period_end)}"
                    for p in previews[n]) + ", not this period"
            mismatches.append(_mismatch(lg, None, [Cause.UNMATCHED],
                                        why or "no Stripe invoice for this customer and period"))
            continue
        used.add(match[0])
        found = explain(lg, match[1])
        if found is None:
            equal += 1
        else:
            mismatches.append(_mismatch(lg, match[1], found.causes, found.detail))
    if previews is None:
        mismatches += [_mismatch(None, s, [Cause.UNMATCHED], "Stripe invoice with no legacy "
                                 "invoice for this customer and period")
                       for i, s in enumerate(stripe) if i not in used]
    return mismatches, equal


def run_billing_parallel(legacy: list[LegacyInvoice], gateway: StripeGateway,
                         options: BillingOptions) -> ShadowRun:
    rows = [r for r in legacy if not options.customers or r.customer in options.customers]
    info = RunInfo(id=new_id("shd"), mode="billing_parallel", engagement=options.engagement,
                   primary=f"legacy:{options.source}", candidate=f"stripe:{options.stripe}",
                   corpus_hash=legacy_hash(rows), corpus_events=len(rows),
                   started_at=datetime.now(UTC))
    if not rows:
        info.finished_at = datetime.now(UTC)
        return ShadowRun(run=info, verdict=Verdict.INCONCLUSIVE, reasons=[
            "no legacy invoices to compare (check --customer)"])
    side = _StripeSide(gateway)
    try:
        if options.stripe == "preview":
            previews: list[list[StripeInvoice]] | None = side.previews(rows)
            stripe = [p for found in previews or [] for p in found]
        else:
            previews, stripe = None, side.invoices(rows)
    except _Unavailable as exc:
        info.finished_at = datetime.now(UTC)
        return ShadowRun(run=info, verdict=Verdict.INCONCLUSIVE,
                         reasons=[f"Stripe could not be read: {exc}"])
    mismatches, equal = _compare(rows, stripe, previews, side.refusals)
    for m in mismatches:
        m.repro = f"{options.repro} --customer {m.object_id}"
    money: dict[str, list[int]] = {}
    for m in mismatches:
        if m.currency and m.amount_minor is not None:
            money.setdefault(m.currency, []).append(m.amount_minor)
    ranked = sorted(mismatches, key=lambda m: (Cause.UNEXPLAINED.value not in m.causes,
                                               -(m.amount_minor or 0)))
    info.finished_at = datetime.now(UTC)
    return ShadowRun(
        run=info, verdict=Verdict.FAIL if mismatches else Verdict.PASS,
        totals={"legacy_invoices": len(rows), "stripe_invoices": len(stripe),
                "matched_equal": equal, "mismatches": len(mismatches)},
        by_cause=dict(Counter(c for m in mismatches for c in m.causes)),
        money_impact=[MoneyImpact(currency=c, amount_minor=sum(v), mismatches=len(v))
                      for c, v in sorted(money.items())],
        top_mismatches=ranked[:TOP], mismatches=ranked)
