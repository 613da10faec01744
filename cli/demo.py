"""`fde demo`: everything on its embedded defaults, in one process, for a first look."""

from __future__ import annotations

from pydantic import SecretStr

from cli import context, wiring
from cli.output import say
from cli.sandbox import start_replica
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
    replica = start_replica()
    _ensure_demo_engagement(replica.url)
    api = create_app(settings, database=context.database())
    say(
        "\n[bold]fde-ops demo[/]\n"
        f"  Stripe replica  {replica.url}   (key {SANDBOX_API_KEY[:8]}…, any sk_test_ key works)\n"
        f"  API             {settings.api_url}   health {settings.api_url}/healthz, "
        f"docs {settings.api_url}/docs\n"
        "  try             .venv/bin/fde doctor\n"
        "                  .venv/bin/fde engagement show demo\n"
        f"                  curl -s -u {SANDBOX_API_KEY}: {replica.url}/v1/customers?limit=3\n"
        "  stop            Ctrl-C\n"
    )
    try:
        uvicorn.run(api, host=settings.api_host, port=settings.api_port, log_config=None)
    finally:
        replica.stop()
