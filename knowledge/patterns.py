"""The pattern library: markdown files with YAML front matter, parsed and validated.

A pattern file looks like::

    ---
    id: webhook-signature-raw-body
    title: ...
    products: [webhooks, payments]
    tags: [signature]
    failure_modes: [FM-01]
    checks: [webhook.signature_raw_body]
    ---
    ## Problem / ## Forces / ## Solution / ## Anti-patterns / ## Checklist / ## References

Checklist lines are review items: ``- [high] `webhook.signature_raw_body` — what to check``.
Every problem is reported as a ConfigError naming the file and the field.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field

from core.errors import ConfigError

__all__ = [
    "CHECK_ID",
    "PRODUCTS",
    "REQUIRED_SECTIONS",
    "SEVERITIES",
    "ChecklistItem",
    "Pattern",
    "load_pattern",
    "load_patterns",
    "parse_pattern",
]

Severity = Literal["critical", "high", "medium", "low"]
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low")
PRODUCTS = frozenset({
    "payments", "billing", "invoicing", "checkout", "connect", "lpm", "tax", "webhooks",
    "reporting", "platform",
})
REQUIRED_SECTIONS = ("Problem", "Forces", "Solution", "Anti-patterns", "Checklist", "References")
REQUIRED_FIELDS = ("id", "title", "products", "tags", "failure_modes", "checks")
CHECK_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
_PATTERN_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,80}$")
_FM_ID = re.compile(r"^FM-(0[1-9]|[1-2][0-9]|3[0-5])$")
_ITEM = re.compile(
    r"^[-*]\s+\[(?P<sev>[a-z]+)\]\s+`(?P<check>[^`]+)`\s*(?:—|--|-|:)\s*(?P<text>.+)$"
)


class ChecklistItem(BaseModel):
    check: str
    severity: Severity
    text: str


class Pattern(BaseModel):
    id: str
    title: str
    products: list[str]
    tags: list[str]
    failure_modes: list[str]
    checks: list[str]
    sections: dict[str, str]
    checklist: list[ChecklistItem]
    path: str
    content_hash: str = Field(description="sha256 of the file bytes: drives incremental re-index")

    @property
    def references(self) -> list[str]:
        return [line.lstrip("-* ").strip() for line in self.sections["References"].splitlines()
                if line.strip().startswith(("-", "*"))]

    def summary(self) -> str:
        """The first paragraph of the Solution: a one-line recommendation."""
        return self.sections["Solution"].strip().split("\n\n", 1)[0].replace("\n", " ")


def _fail(path: Path, field: str, problem: str) -> ConfigError:
    return ConfigError(
        f"pattern {path}: field '{field}': {problem}",
        hint="fix the front matter / sections of that file (see knowledge/README.md, Patterns)",
    )


def _string_list(path: Path, meta: dict[str, object], field: str) -> list[str]:
    value = meta[field]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise _fail(path, field, f"expected a non-empty list of strings, got {value!r}")
    return [v.strip() for v in value]


def parse_pattern(text: str, path: Path) -> Pattern:
    """Parse one pattern file's text; `path` is only used in error messages and ids."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise _fail(path, "front matter", "the file must start with a '---' line")
    try:
        end = next(i for i, line in enumerate(lines[1:], 1) if line.strip() == "---")
    except StopIteration:
        raise _fail(path, "front matter", "no closing '---' line") from None
    try:
        meta = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        raise _fail(path, "front matter", f"invalid YAML{where}: {exc}") from None
    if not isinstance(meta, dict):
        raise _fail(path, "front matter", "expected a mapping of fields")
    for field in REQUIRED_FIELDS:
        if field not in meta or meta[field] in (None, "", []):
            raise _fail(path, field, "missing")
    unknown = sorted(set(meta) - set(REQUIRED_FIELDS))
    if unknown:
        raise _fail(path, unknown[0], f"unknown front-matter field(s) {unknown}")
    pid = meta["id"]
    if not isinstance(pid, str) or not _PATTERN_ID.match(pid):
        raise _fail(path, "id", f"expected a kebab-case id, got {pid!r}")
    if path.suffix == ".md" and path.stem != pid:
        raise _fail(path, "id", f"id {pid!r} does not match the file name {path.name!r}")
    if not isinstance(meta["title"], str):
        raise _fail(path, "title", "expected a string")
    products = _string_list(path, meta, "products")
    bad = sorted(set(products) - PRODUCTS)
    if bad:
        raise _fail(path, "products", f"unknown product(s) {bad}; known: {sorted(PRODUCTS)}")
    tags = _string_list(path, meta, "tags")
    fms = _string_list(path, meta, "failure_modes")
    bad = [f for f in fms if not _FM_ID.match(f)]
    if bad:
        raise _fail(path, "failure_modes", f"not catalogue ids FM-01..FM-35: {bad}")
    checks = _string_list(path, meta, "checks")
    bad = [c for c in checks if not CHECK_ID.match(c)]
    if bad:
        raise _fail(path, "checks", f"check ids look like family.name: {bad}")

    sections = _sections(lines[end + 1:])
    for name in REQUIRED_SECTIONS:
        if not sections.get(name, "").strip():
            raise _fail(path, f"section {name}", "missing or empty")
    checklist = _checklist(path, sections["Checklist"])
    listed = {item.check for item in checklist}
    if set(checks) != listed:
        raise _fail(path, "checks", (
            f"front matter and Checklist disagree: only in front matter "
            f"{sorted(set(checks) - listed)}, only in Checklist {sorted(listed - set(checks))}"))
    return Pattern(
        id=pid, title=meta["title"].strip(), products=products, tags=tags, failure_modes=fms,
        checks=checks, sections=sections, checklist=checklist, path=str(path),
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def _sections(lines: Iterable[str]) -> dict[str, str]:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lines:
        if line.startswith("## "):
            current = sections.setdefault(line[3:].strip(), [])
        elif current is not None:
            current.append(line)
    return {name: "\n".join(body).strip() for name, body in sections.items()}


def _checklist(path: Path, body: str) -> list[ChecklistItem]:
    items: list[ChecklistItem] = []
    for line in body.splitlines():
        if not line.strip().startswith(("-", "*")):
            continue
        match = _ITEM.match(line.strip())
        if not match:
            raise _fail(path, "section Checklist",
                        f"item must read '- [severity] `check.id` — text': {line.strip()!r}")
        if match["sev"] not in SEVERITIES:
            raise _fail(path, "section Checklist",
                        f"severity {match['sev']!r} not one of {list(SEVERITIES)}")
        if not CHECK_ID.match(match["check"]):
            raise _fail(path, "section Checklist", f"bad check id {match['check']!r}")
        items.append(ChecklistItem(check=match["check"], severity=match["sev"],  # type: ignore[arg-type]
                                   text=match["text"].strip()))
    if not items:
        raise _fail(path, "section Checklist", "no review items")
    return items


def load_pattern(path: Path) -> Pattern:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(path, "file", f"cannot read: {exc}") from None
    return parse_pattern(text, path)


def load_patterns(directory: Path) -> list[Pattern]:
    """All `*.md` patterns of a directory, sorted by id; ids must be unique."""
    if not directory.is_dir():
        raise ConfigError(f"pattern directory {directory} does not exist",
                          hint="set FDE_PATTERNS_DIR or pass --patterns")
    patterns = [load_pattern(p) for p in sorted(directory.glob("*.md"))]
    seen: dict[str, str] = {}
    for p in patterns:
        if p.id in seen:
            raise _fail(Path(p.path), "id", f"duplicate id, also used by {seen[p.id]}")
        seen[p.id] = p.path
    return patterns
