"""`fde users create NAME --role R`: an API token for someone; printed once, only its hash
is kept."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import context, wiring
from cli.output import console, say

app = typer.Typer(help="API users and their tokens.", no_args_is_help=True)


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="who the token is for, e.g. ana")],
    role: Annotated[str, typer.Option(help="viewer, engineer, approver or admin")] = "engineer",
) -> None:
    """Create a user and print their API token (it cannot be shown again)."""
    from api.auth import create_token

    with context.database().session() as session:
        created = create_token(session, name, role, actor=wiring.actor())
    say(f"created {created.name} ({created.role}); the token is shown once:")
    # Printed without redaction on purpose: this is the one time the token is shown.
    console.print(created.token, markup=False, highlight=False)
