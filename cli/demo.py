"""`fde demo`: everything on its embedded defaults, in one process, for a first look."""

from __future__ import annotations

from pydantic import SecretStr

from cli import context, wiring
from cli.output import console
from cli.sandbox import replica
from core import engagements
from core.errors import EngagementNotFound
from core.secrets import secret_box
from core.settings import SANDBOX_API_KEY

DEMO_ENGAGEMENT = "demo"


def _ensure_demo_engagement(replica_url: str) -> None:
    settings = context.settings()
    with context.database().session() as session:
        try:
            engagements.get(session, DEMO_ENGAGEMENT)
            return
        except EngagementNotFound:
            pass
    spec = engagements.EngagementCreate(
        name=DEMO_ENGAGEMENT, stripe_mode="test", stripe_key=SecretStr(SANDBOX_API_KEY),
        stripe_api_base=replica_url,
    )
    account = wiring.gateway_from_spec(settings, spec).account()
    spec = spec.model_copy(update={"stripe_account_id": account.id})
    with context.database().session() as session:
        engagements.add(session, secret_box(settings), spec, actor=wiring.actor())


def demo() -> None:
    """Start the seeded Stripe replica and the API, register the demo engagement, print URLs."""
    import uvicorn

    from api.main import create_app

    settings = context.settings()
    with replica() as stripe_replica:
        _ensure_demo_engagement(stripe_replica.url)
        api = create_app(settings, database=context.database())
        _banner(settings.api_url, stripe_replica.url)
        uvicorn.run(api, host=settings.api_host, port=settings.api_port, log_config=None)


def _banner(api_url: str, replica_url: str) -> None:
    # Printed without redaction on purpose: the sandbox key is public and the curl line
    # must be copyable. Nothing else in this banner comes from configuration.
    console.print(
        "\n[bold]fde-ops demo[/]\n"
        f"  Stripe replica  {replica_url}   (any sk_test_ key works)\n"
        f"  API             {api_url}   health {api_url}/healthz, docs {api_url}/docs\n"
        "  try             .venv/bin/fde doctor\n"
        "                  .venv/bin/fde engagement show demo\n"
        f"                  curl -s -u {SANDBOX_API_KEY}: {replica_url}/v1/customers?limit=3\n"
        "  stop            Ctrl-C\n",
        soft_wrap=True,
    )
