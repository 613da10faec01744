"""Full-text search over an engagement's workspace: every timeline entry (findings, runs,
drafts, cases, escalations, notes, decisions, reviews), contacts and review items.

BM25 (`bm25s`) over title + body, built per query: a workspace holds hundreds to a few
thousand records, which index in milliseconds, and a fresh index can never be stale.
Only records sharing at least one query term are returned, best first.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy.orm import Session

from core.text import words
from tools.workspace import reviews, store
from tools.workspace.errors import WorkspaceInputError
from tools.workspace.models import SearchHit
from tools.workspace.timeline import timeline

__all__ = ["search", "tokenize"]

_STOP = frozenset("a an and are as at be by for from has in is it of on or that the this to "
                  "was we were with".split())
_SNIPPET = 160


def tokenize(text: str) -> list[str]:
    """Words without a few stop words (`core.text.words`): 'refunds' finds 'refund'."""
    return words(text, _STOP)


def _snippet(text: str, terms: set[str]) -> str:
    flat = " ".join(text.split())
    lowered = flat.lower()
    starts = [lowered.find(t) for t in terms if lowered.find(t) >= 0]
    start = max(0, min(starts) - 40) if starts else 0
    cut = flat[start:start + _SNIPPET]
    return ("…" if start else "") + cut + ("…" if start + _SNIPPET < len(flat) else "")


def search(session: Session, engagement: str, query: str, *, limit: int = 20
           ) -> list[SearchHit]:
    import bm25s

    terms = tokenize(query)
    if not terms:
        raise WorkspaceInputError(f"the search query {query!r} has no words to look for",
                                  hint="search for a word, e.g. `fde workspace search sepa`")
    docs: list[tuple[SearchHit, str]] = []
    for e in timeline(session, engagement):
        docs.append((SearchHit(kind=e.kind, ref=e.ref, title=e.title, snippet="", at=e.at,
                               score=0.0), f"{e.title}\n{e.body}\n{e.actor or ''}"))
    for c in store.list_contacts(session, engagement):
        docs.append((SearchHit(kind="contact", ref=c.id, title=f"{c.name} ({c.role})",
                               snippet="", at=c.created_at, score=0.0),
                     f"{c.name} {c.role} {c.email or ''}"))
    for i in reviews.list_items(session, engagement):
        docs.append((SearchHit(kind="review_item", ref=i.id, title=f"[{i.status}] {i.check}",
                               snippet="", at=i.last_seen, score=0.0),
                     f"{i.check}\n{i.item}\n{i.recommendation}\n{i.why or ''}"))
    if not docs:
        return []
    retriever = bm25s.BM25()
    retriever.index([tokenize(text) or ["\x00"] for _, text in docs], show_progress=False)
    scores = np.asarray(retriever.get_scores(terms))
    order = np.argsort(-scores, kind="stable")
    wanted = set(terms)
    hits = []
    for i in order[:limit]:
        if scores[i] <= 0:
            break
        hit, text = docs[i]
        hits.append(hit.model_copy(update={"score": round(float(scores[i]), 4),
                                           "snippet": _snippet(text, wanted)}))
    return hits
