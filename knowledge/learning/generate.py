"""Lesson → draft text: a pattern in the library's format, a check stub, an eval scenario.

The drafts are deliberately plain: they restate what the engineer confirmed, cite its
evidence, and leave the parts only a person can write (forces, the detector's logic)
marked as such. A pattern draft is parsed with the library's own parser before it is
offered, so an approved draft always loads.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from core.errors import ConfigError
from knowledge.learning.model import DraftKind, Lesson
from knowledge.patterns import PRODUCTS, parse_pattern

__all__ = ["draft_text", "slug"]

_AREAS = {"billing", "invoicing", "payments", "lpm", "checkout", "connect", "webhooks"}


def slug(text: str) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return (words[:60].rstrip("-") or "lesson").ljust(3, "x")


def _products(lesson: Lesson) -> list[str]:
    found = [p.lower() for p in lesson.products if p.lower() in PRODUCTS]
    return sorted(set(found)) or ["platform"]


def _check_id(lesson: Lesson) -> str:
    family = _products(lesson)[0]
    return f"{family}.{slug(lesson.title).replace('-', '_')[:40]}"


def _pattern(lesson: Lesson) -> str:
    pid = slug(lesson.title)
    check = _check_id(lesson)
    evidence = ", ".join(f"`{e}`" for e in lesson.evidence_ids) or "(none recorded)"
    if not lesson.failure_mode:
        raise ConfigError(f"{lesson.source}: a pattern draft needs the failure mode the lesson "
                          "confirmed", hint="propose a scenario or check instead, or set it")
    meta = {"id": pid, "title": lesson.title, "products": _products(lesson),
            "tags": ["learned", slug(lesson.category)], "failure_modes": [lesson.failure_mode],
            "checks": [check]}
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True).strip()
    text = f"""---
{front}
---

## Problem

{lesson.explanation or lesson.title}

Seen in engagement {lesson.engagement or "(unknown)"} ({lesson.source}); evidence: {evidence}.

## Forces

{lesson.cause or "To be written by the approving engineer: what makes this easy to get wrong."}

## Solution

{lesson.systemic_fix or lesson.fix or "To be written by the approving engineer."}

## Anti-patterns

- Fixing the one affected object by hand and leaving the integration as it is.

## Checklist

- [high] `{check}` — {lesson.fix or lesson.title}

## References

- {lesson.source} (resolved by {lesson.decided_by})
"""
    return text


def _check_stub(lesson: Lesson) -> str:
    check = _check_id(lesson)
    return f'''"""Proposed detector `{check}` (learning loop, from {lesson.source}).

Not registered: an engineer implements `evaluate` against a world that reproduces the
problem, adds it to tools/checks/detectors/ and to knowledge/checks_catalog.md.

What was confirmed: {lesson.title}
Failure mode: {lesson.failure_mode or "none assigned"}
Evidence seen: {", ".join(lesson.evidence_ids) or "(none recorded)"}
Immediate fix: {lesson.fix or "-"}
Systemic fix: {lesson.systemic_fix or "-"}
"""

CHECK_ID = "{check}"
FAILURE_MODE = {lesson.failure_mode!r}


def evaluate(ctx, check):  # noqa: ANN001, ANN201 - signature of tools.checks Check.evaluate_fn
    raise NotImplementedError("proposed check: write the detector before registering it")
'''


def _scenario(lesson: Lesson) -> str:
    area = next((p.lower() for p in lesson.products if p.lower() in _AREAS), "none")
    doc = {
        "id": slug(lesson.title), "title": lesson.title, "area": area, "tags": ["learned"],
        "world": {"seed": 7, "size": "tiny",
                  "bugs": [lesson.failure_mode] if lesson.failure_mode else []},
        "ticket": lesson.ticket or lesson.explanation or lesson.title,
        "expected": {
            "outcome": "diagnosed" if lesson.failure_mode else "no_defect",
            "category": lesson.category,
            "failure_modes": [lesson.failure_mode] if lesson.failure_mode else [],
            "must_escalate": False,
            "note": f"learned from {lesson.source}; check the world has the bug switch",
        },
    }
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def draft_text(kind: DraftKind, lesson: Lesson) -> tuple[str, str]:
    """(file name, body) for a draft of `kind`."""
    if kind == "pattern":
        body = _pattern(lesson)
        name = f"{slug(lesson.title)}.md"
        parse_pattern(body, Path(name))  # the library must be able to load it once approved
        return name, body
    if kind == "check":
        return f"{_check_id(lesson).replace('.', '_')}.py", _check_stub(lesson)
    return f"{slug(lesson.title)}.yaml", _scenario(lesson)
