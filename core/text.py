"""Word pieces for lexical search (BM25 over patterns, the engagement workspace)."""

from __future__ import annotations

import re

__all__ = ["words"]

_WORD = re.compile(r"[a-z0-9]+")


def words(text: str, stop: frozenset[str]) -> list[str]:
    """Lower-case word pieces without the `stop` words; identifiers such as
    `invoice.created` and `Stripe-Account` split into their parts, and a light plural strip
    so 'webhooks' finds 'webhook'."""
    out = []
    for word in _WORD.findall(text.lower()):
        if word in stop:
            continue
        if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.append(word)
    return out
