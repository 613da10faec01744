"""`fde users create NAME --role R`: an API token for someone; printed once, only its hash
is kept. `fde users list` shows users (a token's last four characters only); `fde users
revoke NAME` ends a token (audited). Like `create`, these act as the OS user holding the
database: an admin over HTTP uses GET /users and POST /users/{name}/revoke."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import context, wiring
from cli.output import console, print_json, say

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


@app.command("list")
def list_cmd(
    active: Annotated[bool, typer.Option("--active", help="hide revoked tokens")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Users and their tokens (only each token's last four characters)."""
    from rich.table import Table

    from api.auth import list_tokens

    with context.database().session() as session:
        users = list_tokens(session, include_revoked=not active)
    if as_json:
        print_json([u.model_dump(mode="json") for u in users])
        return
    table = Table("name", "role", "token", "created", "revoked")
    for u in users:
        table.add_row(u.name, u.role, u.hint, f"{u.created_at:%Y-%m-%d %H:%M}",
                      f"{u.revoked_at:%Y-%m-%d %H:%M}" if u.revoked_at else "-")
    console.print(table)


@app.command("revoke")
def revoke(name: Annotated[str, typer.Argument(help="the user whose token to revoke")]) -> None:
    """Revoke a user's token: its API calls and console sessions stop at once (audited)."""
    from api.auth import revoke_token

    with context.database().session() as session:
        info = revoke_token(session, name, actor=wiring.actor())
    say(f"revoked {info.name}'s token ({info.role}, {info.hint})")
