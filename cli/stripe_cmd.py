"""`fde stripe get <id>`: any Stripe object by its id prefix, redacted."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import wiring
from cli.output import print_json
from tools.stripe.inspect import get_object

app = typer.Typer(help="Read Stripe objects through the gateway.", no_args_is_help=True)


@app.command("get")
def get(
    object_id: Annotated[str, typer.Argument(help="e.g. cus_..., in_..., pi_..., evt_...")],
    engagement: Annotated[str | None, typer.Option(
        help="engagement whose key to use (default: FDE_STRIPE_API_KEY)")] = None,
) -> None:
    """Fetch one object; secrets in it (client secrets, webhook secrets) are redacted."""
    view = get_object(wiring.gateway(engagement), object_id)
    print_json(view.model_dump(mode="json"))
