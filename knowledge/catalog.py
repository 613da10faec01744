"""The detector catalogue (`knowledge/checks_catalog.md`) generated from the patterns'
checklists, for the engineer who builds detectors in tools/checks.

    .venv/bin/python -m knowledge.catalog      # rewrite the file
"""

from __future__ import annotations

from collections.abc import Sequence

from knowledge.config import DEFAULT_PATTERNS_DIR, PACKAGE_DIR
from knowledge.patterns import Pattern, load_patterns

__all__ = ["CATALOG_PATH", "render_checks_catalog"]

CATALOG_PATH = PACKAGE_DIR / "checks_catalog.md"


def render_checks_catalog(patterns: Sequence[Pattern]) -> str:
    from knowledge.review.rules import RULES

    rows = sorted((item.check, item.severity, p.id, ", ".join(p.failure_modes), item.text)
                   for p in patterns for item in p.checklist)
    families = sorted({r[0].split(".")[0] for r in rows})
    lines = [
        "# Check catalogue",
        "",
        "Generated from the patterns' checklists by `python -m knowledge.catalog`; do not edit",
        "by hand. Each id is a detector to build in `tools/checks/<family>.py` and the key the",
        "architecture review (`fde review`) reports on. *arch* = the review can judge it from an",
        "architecture description (knowledge/review/rules.py); *runtime* = needs snapshot,",
        "user-system or delivery-log evidence.",
        "",
        f"{len(rows)} checks in {len(families)} families: {', '.join(families)}.",
        "",
    ]
    for family in families:
        lines += [f"## {family}", "", "| check | severity | from arch | pattern | FM | item |",
                  "|---|---|---|---|---|---|"]
        for check, severity, pid, fms, text in rows:
            if check.split(".")[0] != family:
                continue
            where = "arch" if check in RULES else "runtime"
            lines.append(f"| `{check}` | {severity} | {where} | {pid} | {fms} | "
                         f"{text.replace('|', '/')} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    CATALOG_PATH.write_text(render_checks_catalog(load_patterns(DEFAULT_PATTERNS_DIR)),
                            encoding="utf-8")


if __name__ == "__main__":
    main()
