"""`fde knowledge index|search|review` and the top-level `fde review`: the pattern library.

The lead wires it with `app.add_typer(knowledge.app, name="knowledge")` and
`app.command("review")(knowledge.review)`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cli.output import console, print_json, say
from core.errors import ConfigError
from knowledge.config import KnowledgeSettings, load_knowledge_settings

app = typer.Typer(help="Pattern library: index, search, architecture review.",
                  no_args_is_help=True)


def _settings(patterns: Path | None) -> KnowledgeSettings:
    overrides = {"patterns_dir": patterns} if patterns else {}
    return load_knowledge_settings(**overrides)


@app.command("index")
def index(
    patterns: Annotated[Path | None, typer.Option(
        help="pattern directory (default: FDE_PATTERNS_DIR or the packaged library)")] = None,
) -> None:
    """Index the pattern library into Chroma (+ BM25). Incremental: only patterns whose
    content changed are re-embedded; deleted patterns are removed."""
    from knowledge.index import open_index
    from knowledge.patterns import load_patterns

    settings = _settings(patterns)
    found = load_patterns(settings.patterns_dir)
    report = open_index(settings).update(found)
    where = settings.chroma_url or str(settings.effective_chroma_path)
    say(f"[green]indexed[/] {len(found)} patterns into {where}: {len(report.added)} added, "
        f"{len(report.updated)} updated, {len(report.removed)} removed, "
        f"{report.unchanged} unchanged ({report.seconds:.2f}s)")


@app.command("search")
def search(
    query: Annotated[str, typer.Argument(help="what you are looking for, in plain words")],
    product: Annotated[list[str] | None, typer.Option(
        "--product", help="only patterns for this product (repeatable)")] = None,
    tag: Annotated[list[str] | None, typer.Option(
        "--tag", help="only this tag (repeatable)")] = None,
    limit: Annotated[int, typer.Option("--limit", "-k", min=1, max=50)] = 5,
    method: Annotated[str, typer.Option(help="fusion, dense or bm25")] = "fusion",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Search the indexed patterns (dense + BM25 fused with reciprocal rank fusion)."""
    from knowledge.index import open_index
    from knowledge.patterns import PRODUCTS

    if method not in ("fusion", "dense", "bm25"):
        raise ConfigError(f"unknown method {method!r}", hint="use fusion, dense or bm25")
    bad = sorted(set(product or []) - PRODUCTS)
    if bad:
        raise ConfigError(f"unknown product(s) {bad}", hint=f"one of {sorted(PRODUCTS)}")
    idx = open_index(_settings(None))
    if idx.count() == 0:
        raise ConfigError("the pattern index is empty", hint="run `fde knowledge index` first")
    started = time.perf_counter()
    hits = idx.search(query, k=limit, method=method,  # type: ignore[arg-type]
                      products=product or [], tags=tag or [])
    elapsed = (time.perf_counter() - started) * 1000
    if as_json:
        print_json([h.model_dump() for h in hits])
        return
    table = Table("#", "pattern", "title", "products", "score")
    for n, hit in enumerate(hits, 1):
        table.add_row(str(n), hit.id, hit.title, ", ".join(hit.products), f"{hit.score:.4f}")
    console.print(table)
    say(f"{len(hits)} result(s) in {elapsed:.1f} ms ({method})")


def review(
    architecture: Annotated[Path | None, typer.Argument(
        help="architecture description (YAML), see knowledge/examples/")] = None,
    integration_map: Annotated[Path | None, typer.Option(
        "--map", help="an engagement's integration map (JSON/YAML) to add live facts")] = None,
    out: Annotated[Path | None, typer.Option(
        help="write the report here; .html for HTML, anything else markdown")] = None,
    fmt: Annotated[str, typer.Option("--format", help="markdown, html or json")] = "markdown",
    patterns: Annotated[Path | None, typer.Option(help="pattern directory")] = None,
) -> None:
    """Review an architecture against the pattern library's checklists."""
    from knowledge.patterns import load_patterns
    from knowledge.review.engine import review_architecture
    from knowledge.review.model import (
        load_architecture,
        load_integration_map,
        merge_integration_map,
    )
    from knowledge.review.report import render_html, render_markdown

    if architecture is None and integration_map is None:
        raise ConfigError("nothing to review", hint="pass arch.yaml and/or --map map.json")
    arch = load_architecture(architecture) if architecture else None
    if integration_map:
        arch = merge_integration_map(arch, load_integration_map(integration_map))
    assert arch is not None
    report = review_architecture(arch, load_patterns(_settings(patterns).patterns_dir))
    if out is not None and fmt == "markdown" and out.suffix.lower() in (".html", ".htm"):
        fmt = "html"
    if fmt not in ("markdown", "html", "json"):
        raise ConfigError(f"unknown format {fmt!r}", hint="markdown, html or json")
    text = {"markdown": render_markdown, "html": render_html,
            "json": lambda r: r.model_dump_json(indent=2)}[fmt](report)
    if out is None:
        if fmt == "json":
            print_json(report.model_dump())
        else:
            console.print(text, markup=False, highlight=False)
    else:
        out.write_text(text, encoding="utf-8")
        counts = report.counts()
        say(f"wrote {out}: {len(report.violations)} violated item(s) "
            f"({counts['critical']} critical, {counts['high']} high), "
            f"{len(report.matched_patterns)} matched pattern(s)")
    if any(v.severity == "critical" for v in report.violations):
        raise typer.Exit(code=1)


app.command("review")(review)
