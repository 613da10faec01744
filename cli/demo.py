"""`fde demo`: everything on its embedded defaults, in one process, for a first look.

The demo serves a generated sandbox world (a B2B SaaS on Stripe and its own database) with
a few real-world bugs switched on, so reconciliation, checks and the console have
something to find.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pydantic import SecretStr

from cli import context, wiring
from cli.output import console, say
from cli.sandbox import worlds_dir
from core import engagements
from core.errors import EngagementNotFound
from core.secrets import secret_box
from core.settings import SANDBOX_API_KEY
from tools.advisor import calls_path

DEMO_ENGAGEMENT = "demo"
DEMO_BUGS = "FM-02,FM-04,FM-13,FM-15"


def _mapping_file() -> str:
    import sandbox.usersys

    return str(Path(sandbox.usersys.__file__).with_name("mapping.yaml"))


def _ensure_demo_engagement(replica_url: str, user_db: Path, webhook_url: str) -> None:
    settings = context.settings()
    with context.database().session() as session:
        try:
            engagements.get(session, DEMO_ENGAGEMENT)
            return
        except EngagementNotFound:
            pass
    spec = engagements.EngagementCreate(
        name=DEMO_ENGAGEMENT, stripe_mode="test", stripe_key=SecretStr(SANDBOX_API_KEY),
        stripe_api_base=replica_url, user_db_dsn=SecretStr(f"sqlite:///{user_db.resolve()}"),
        mapping_path=_mapping_file(), webhook_urls=[webhook_url],
    )
    account = wiring.gateway_from_spec(settings, spec).account()
    spec = spec.model_copy(update={"stripe_account_id": account.id})
    with context.database().session() as session:
        engagements.add(session, secret_box(settings), spec, actor=wiring.actor())


def demo() -> None:
    """Serve the demo world (replica + company webhook app) and the API; print the URLs."""
    from core.server_thread import ensure_free, serve_forever

    settings = context.settings()
    # every port first: a taken one is one clear line now, not a traceback after the build
    for host, port, setting in ((settings.api_host, settings.api_port, "FDE_API_PORT"),
                                (settings.replica_host, settings.replica_port, "FDE_REPLICA_PORT"),
                                (settings.replica_host, settings.handler_port, "FDE_HANDLER_PORT")):
        ensure_free(host, port, setting=setting)
    from api.main import create_app
    from sandbox.world.config import WorldConfig
    from sandbox.world.serve import running_world

    config = WorldConfig.parse(seed=0, size="demo", bugs=DEMO_BUGS)
    with running_world(config, worlds_dir(settings.data_dir), host=settings.replica_host,
                       port=settings.replica_port, handler_port=settings.handler_port,
                       log=say) as world:
        _ensure_demo_engagement(world.replica_url, world.user_db,
                                f"{world.handler_url}/webhooks/stripe")
        # what the company's tracing exported: `fde advise -e demo` reads it by default
        target = calls_path(settings.data_dir, DEMO_ENGAGEMENT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(world.calls, target)
        api = create_app(settings, database=context.database())
        _banner(settings.api_url, world.replica_url, world.handler_url,
                sum(world.info.counts.values()))
        _print_token(demo_token())
        serve_forever(api, settings.api_host, settings.api_port, setting="FDE_API_PORT")


def demo_token() -> str:
    """A fresh admin API token for this demo session (tokens are never stored in clear,
    so each start mints one)."""
    from api.auth import create_token
    from core.ids import new_id

    with context.database().session() as session:
        return create_token(session, f"demo-{new_id('u')[-8:].lower()}", "admin",
                            actor=wiring.actor()).token


def _print_token(token: str) -> None:
    # Printed without redaction on purpose: it is the demo user's only copy.
    console.print(f"  API token       {token}   (admin; send as `Authorization: Bearer …`)\n",
                  markup=False, highlight=False, soft_wrap=True)


def _banner(api_url: str, replica_url: str, handler_url: str, objects: int) -> None:
    # Printed without redaction on purpose: the sandbox key is public and the curl line
    # must be copyable. Nothing else in this banner comes from configuration.
    console.print(
        "\n[bold]fde-ops demo[/]\n"
        f"  Stripe replica  {replica_url}   ({objects} objects and events, any sk_test_ key)\n"
        f"  company app     {handler_url}   (its webhook handler; bugs on: {DEMO_BUGS})\n"
        f"  API             {api_url}   health {api_url}/healthz, docs {api_url}/docs\n"
        "  try             .venv/bin/fde doctor\n"
        "                  .venv/bin/fde engagement show demo\n"
        "                  .venv/bin/fde sandbox bugs\n"
        f"                  curl -s -u {SANDBOX_API_KEY}: {replica_url}/v1/customers?limit=3\n"
        "  stop            Ctrl-C\n",
        soft_wrap=True,
    )
