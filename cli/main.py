"""The one `fde` entry point. Sub-commands live one module per area."""

from __future__ import annotations

import typer

from cli import doctor, engagement, sandbox, serve, stripe_cmd
from cli.output import fail
from core.errors import FdeError

app = typer.Typer(
    name="fde",
    help="fde-ops: agent-assisted operations for Stripe integrations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(sandbox.app, name="sandbox")
app.add_typer(engagement.app, name="engagement")
app.add_typer(stripe_cmd.app, name="stripe")
app.command("doctor")(doctor.doctor)
app.command("serve")(serve.serve)
app.command("demo")(serve.demo)


def main() -> None:
    try:
        app()
    except FdeError as exc:
        fail(exc)
