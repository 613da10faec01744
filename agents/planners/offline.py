"""The offline playbook planner: no model, deterministic.

gather   inspect the objects the ticket names, run the detectors, reconcile.
diagnose rank failure modes by how well the tool outputs explain the ticket
         (`agents.offline.rank`), then write the answer from templates using only values
         the tools returned. Escalates when two explanations are close or the fix needs
         judgment; says "no defect found" / "cannot prove it" instead of guessing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AnyMessage

from agents.models import Diagnosis, Hypothesis, ProposedAction, TicketFacts
from agents.offline.catalog import FailureMode, load_catalog
from agents.offline.rank import Candidate, Evidence, rank
from agents.planners.base import Emit, Gathered, ToolRunner
from tools.registry import ToolCall

__all__ = ["OfflinePlanner", "classify_ticket"]

CLOSE = 0.08  # two candidates within this score are "close": an engineer decides
SIM_CLOSE = 0.15  # ... when the ticket also reads about as much like either of them
MIN_SCORE = 0.45
_LINKS = ("customer", "subscription", "invoice", "payment_intent", "charge", "latest_charge")


def classify_ticket(ticket: str, embed: Any) -> str:
    """The category whose failure modes' symptoms read most like the ticket."""
    modes = load_catalog()
    if embed is None:
        return "unknown"
    vectors = embed([ticket] + [m.symptom for m in modes])
    sims = vectors[1:] @ vectors[0]
    best = max(range(len(modes)), key=lambda i: float(sims[i]))
    return modes[best].category


def _evidence(calls: list[ToolCall]) -> list[Evidence]:
    items: list[Evidence] = []
    for call in calls:
        data = call.result.data
        if call.result.status not in ("success", "no_data") or not isinstance(data, dict):
            continue
        if call.name == "run_checks":
            for f in data.get("findings", []):
                items.append(Evidence("finding", f["id"], f, {f["id"], *f["evidence"]}))
        elif call.name == "run_reconciliation":
            for d in data.get("discrepancies", []):
                ids = {d["id"], *d["evidence"], *(x for x in (d["stripe_id"], d["local_key"])
                                                  if x)}
                items.append(Evidence("discrepancy", d["id"], d, ids))
    return items


def _scope(facts: TicketFacts, calls: list[ToolCall]) -> set[str]:
    scope = set(facts.ids)
    for call in calls:
        if call.name == "get_stripe_object" and call.result.status == "success":
            data = call.result.data.get("data", {}) if isinstance(call.result.data, dict) else {}
            for key in _LINKS:
                value = data.get(key)
                if isinstance(value, str):
                    scope.add(value)
    return scope


def _describe(item: Evidence) -> str:
    d = item.doc
    if item.kind == "finding":
        return f"finding {d['id']} ({d['check']}): {d['summary']}"
    subject = d.get("stripe_id") or d.get("local_key") or d["entity"]
    text = f"discrepancy {d['id']} ({d['class']}, {d['entity']} {subject}): {d['reason']}"
    diffs = [f"{k}: Stripe {d['stripe_values'].get(k)!r} vs yours {d['local_values'].get(k)!r}"
             for k in d.get("fields", [])[:3]
             if k in d.get("stripe_values", {}) or k in d.get("local_values", {})]
    return text + (f" ({'; '.join(diffs)})" if diffs else "")


def _actions(cand: Candidate) -> list[ProposedAction]:
    """Money actions only from ids a tool returned: the later of two duplicate payments."""
    if cand.mode.id != "FM-07":
        return []
    for item in cand.items:
        pis = sorted(i for i in item.ids if i.startswith("pi_"))
        customer = next((i for i in sorted(item.ids) if i.startswith("cus_")), None)
        if len(pis) < 2:
            continue
        dup = pis[-1]
        amount = item.doc.get("details", {}).get("amount") or item.doc.get("amount_minor")
        currency = item.doc.get("details", {}).get("currency") or item.doc.get("currency")
        out = [ProposedAction(name="refund_payment", tier="money",
                              args={"payment_intent": dup, "reason": "duplicate"},
                              description=f"refund the duplicate payment {dup}")]
        if customer and isinstance(amount, int) and currency:
            out.append(ProposedAction(
                name="credit_customer_balance", tier="money",
                args={"customer": customer, "amount": amount, "currency": currency,
                      "description": f"credit for duplicate payment {dup}"},
                description=f"keep {dup} and credit {customer}'s balance instead"))
        return out
    return []


def _close(top: Candidate, other: Candidate) -> bool:
    """Two explanations are close when the evidence backs both equally (a detector finding
    outweighs circumstantial discrepancies), their scores are near, and the ticket does not
    tell them apart."""
    return (other.mode.id != top.mode.id and other.detected == top.detected
            and other.score >= top.score - CLOSE
            and other.similarity >= top.similarity - SIM_CLOSE)


class OfflinePlanner:
    name = "offline"

    def __init__(self, *, embedder: Any = None) -> None:
        self._embedder = embedder

    def _embed(self, texts: list[str]) -> Any:
        if self._embedder is None:
            from knowledge.embedder import MiniLMEmbedder

            self._embedder = MiniLMEmbedder()
        return self._embedder.embed(texts)

    def classify(self, ticket: str) -> str:
        return classify_ticket(ticket, self._embed)

    def gather(self, *, ticket: str, facts: TicketFacts, category: str,
               messages: Sequence[AnyMessage], run: ToolRunner, emit: Emit) -> Gathered:
        """All of it in one step, with no conversation: the calls are the evidence."""
        for object_id in facts.ids[:5]:
            run("get_stripe_object", {"object_id": object_id})
        run("run_checks", {"limit": 500})
        run("run_reconciliation", {"limit": 500})
        return Gathered(done=True)

    def diagnose(self, *, ticket: str, facts: TicketFacts, category: str,
                 calls: list[ToolCall], messages: Sequence[AnyMessage], run: ToolRunner,
                 emit: Emit) -> Diagnosis:
        evidence = _evidence(calls)
        scope = _scope(facts, calls)
        ranked = rank(load_catalog(), evidence, ticket=ticket, facts=facts, scope=scope,
                      embed=self._embed)
        ran = ", ".join(dict.fromkeys(c.name for c in calls)) or "no tools"
        if not ranked:
            return Diagnosis(
                outcome="no_defect_found", category=category, planner=self.name,
                title="no defect found",
                explanation=(f"No defect found. I ran {ran}: no detector fired and no "
                             "reconciliation difference matches a known failure mode, so I "
                             "cannot name a cause for this report. Send an object id (invoice, "
                             "payment, subscription) or a time window and I will look again."),
                evidence_ids=[i for c in calls for i in c.result.evidence_ids[:1]])
        top = ranked[0]
        hypotheses = [Hypothesis(failure_mode=c.mode.id, title=c.mode.title,
                                 confidence=min(1.0, c.score),
                                 evidence_ids=c.evidence_ids(scope),
                                 why=_describe(sorted(c.items, key=lambda e: (
                                     not (e.ids & scope), e.id))[0]))
                      for c in ranked[:3]]
        if (not top.strong and not top.objects) or top.score < MIN_SCORE:
            return Diagnosis(
                outcome="cannot_prove", category=category, planner=self.name,
                title="cannot prove a cause", hypotheses=hypotheses,
                evidence_ids=hypotheses[0].evidence_ids,
                explanation=(f"I cannot prove a cause. I ran {ran}; what the tools found does "
                             "not clearly explain this report (best lead: "
                             f"{top.mode.id} {top.mode.title}, {hypotheses[0].why}). An "
                             "object id or a time window would let me check it directly."),
                needs_judgment=False)
        return self._diagnosed(top, ranked, hypotheses, scope, ran, run)

    def _diagnosed(self, top: Candidate, ranked: list[Candidate], hypotheses: list[Hypothesis],
                   scope: set[str], ran: str, run: ToolRunner) -> Diagnosis:
        mode: FailureMode = top.mode
        close = [c for c in ranked[1:] if _close(top, c)]
        why: list[str] = []
        if close:
            why.append("two explanations are close: " + ", ".join(
                f"{c.mode.id} ({c.score:.2f})" for c in [top, *close]))
        if mode.needs_judgment:
            why.append(f"the fix needs judgment: {mode.judgment}")
        refs: list[str] = []
        hits = run("search_patterns", {"query": f"{mode.title}: {mode.symptom}", "k": 3})
        if hits.result.status == "success":
            refs = [h["id"] for h in hits.result.data]
        shown = sorted(top.items, key=lambda e: (not (e.ids & scope), e.id))[:3]
        lines = [f"Most likely {mode.id} ({mode.title}), confidence {top.score:.2f}.",
                 f"Evidence (from {ran}):"]
        lines += [f"- {_describe(item)}" for item in shown]
        if close:
            lines.append("Also plausible: " + "; ".join(
                f"{c.mode.id} {c.mode.title} ({c.score:.2f})" for c in close))
        return Diagnosis(
            outcome="diagnosed", category=mode.category, failure_mode=mode.id, title=mode.title,
            explanation="\n".join(lines), cause=mode.cause, hypotheses=hypotheses,
            evidence_ids=top.evidence_ids(scope), fix=mode.fix, systemic_fix=mode.systemic_fix,
            pattern_refs=refs, needs_judgment=bool(why), judgment_why="; ".join(why),
            actions=_actions(top), planner=self.name)
