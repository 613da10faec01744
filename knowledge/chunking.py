"""How a pattern becomes text for retrieval: section chunks for the dense index, one
document per pattern for BM25. Bump CHUNKER_VERSION when this changes so the next
`fde knowledge index` re-embeds everything."""

from __future__ import annotations

from pydantic import BaseModel

from knowledge.patterns import Pattern

__all__ = ["CHUNKER_VERSION", "Chunk", "chunk_pattern", "lexical_text"]

CHUNKER_VERSION = "2"
_MAX_WORDS = 140  # stays under the embedder's 256-token window with the title prefix
_DENSE_SECTIONS = ("Problem", "Forces", "Solution", "Anti-patterns", "Checklist")


class Chunk(BaseModel):
    id: str
    pattern_id: str
    section: str
    text: str


def _paragraph_windows(text: str) -> list[str]:
    """Greedy packing of paragraphs (and bullets) into windows of at most _MAX_WORDS."""
    windows: list[str] = []
    current: list[str] = []
    count = 0
    for para in [p.strip() for p in text.replace("\n- ", "\n\n- ").split("\n\n") if p.strip()]:
        words = para.split()
        while len(words) > _MAX_WORDS:  # a single huge paragraph: hard split
            if current:
                windows.append(" ".join(current))
                current, count = [], 0
            windows.append(" ".join(words[:_MAX_WORDS]))
            words = words[_MAX_WORDS:]
        if count + len(words) > _MAX_WORDS and current:
            windows.append(" ".join(current))
            current, count = [], 0
        current.append(" ".join(words))
        count += len(words)
    if current:
        windows.append(" ".join(current))
    return windows


def chunk_pattern(pattern: Pattern) -> list[Chunk]:
    head = f"{pattern.title}. Tags: {', '.join(pattern.tags)}."
    chunks = [Chunk(id=f"{pattern.id}#title", pattern_id=pattern.id, section="title",
                    text=f"{head} Products: {', '.join(pattern.products)}.")]
    for section in _DENSE_SECTIONS:
        for n, window in enumerate(_paragraph_windows(pattern.sections[section])):
            chunks.append(Chunk(id=f"{pattern.id}#{section.lower()}-{n}", pattern_id=pattern.id,
                                section=section, text=f"{pattern.title}. {window}"))
    return chunks


def lexical_text(pattern: Pattern) -> str:
    """One BM25 document per pattern; the title and tags count twice."""
    parts = [pattern.title, pattern.title, " ".join(pattern.tags), " ".join(pattern.tags),
             " ".join(pattern.products), " ".join(c.replace(".", " ").replace("_", " ")
                                                  for c in pattern.checks)]
    parts += [pattern.sections[s] for s in ("Problem", "Forces", "Solution", "Anti-patterns",
                                            "Checklist")]
    return "\n".join(parts)
