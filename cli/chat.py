"""`fde chat --engagement NAME`: an interactive session; each message is triaged with tools
on the same thread context (the investigate graph is not built yet)."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["chat"]


def chat(
    engagement: Annotated[str, typer.Option("--engagement", "-e", help="engagement name")],
) -> None:
    """Chat with the triage agent about an engagement (empty line or Ctrl-D ends)."""
    from cli.triage import triage

    while True:
        try:
            line = input("you> ").strip()
        except EOFError:
            break
        if not line:
            break
        triage(line, engagement=engagement)
