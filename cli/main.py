"""The one `fde` entry point. Sub-commands live one module per area."""

from __future__ import annotations

import typer
from pydantic import ValidationError

from cli import (
    autopilot,
    chat,
    check,
    demo,
    doctor,
    engagement,
    eval_cmd,
    knowledge,
    queue,
    recon,
    sandbox,
    serve,
    shadow,
    stripe_cmd,
    triage,
    users,
)
from cli import login as login_cmd
from cli import map as map_cmd
from cli.advise import advise_cmd
from cli.blueprint import app as blueprint_app
from cli.design import app as design_app
from cli.learn import app as learn_app
from cli.output import fail
from cli.signals import signals as signals_cmd
from cli.workspace import app as workspace_app
from core.errors import ConfigError, FdeError

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
app.add_typer(knowledge.app, name="knowledge")
app.add_typer(recon.app, name="recon")
app.add_typer(check.app, name="check")
app.add_typer(map_cmd.app, name="map")
app.add_typer(shadow.app, name="shadow")
app.add_typer(queue.app, name="queue")
app.add_typer(users.app, name="users")
app.add_typer(autopilot.app, name="autopilot")
app.add_typer(eval_cmd.app, name="eval")
app.command("review")(knowledge.review)
app.command("doctor")(doctor.doctor)
app.command("login")(login_cmd.login)
app.command("logout")(login_cmd.logout)
app.command("serve")(serve.serve)
app.command("demo")(demo.demo)
app.command("triage")(triage.triage)
app.command("chat")(chat.chat)
app.command("advise")(advise_cmd)
app.add_typer(design_app, name="design")
app.add_typer(blueprint_app, name="blueprint")
app.add_typer(learn_app, name="learn")
app.command("signals")(signals_cmd)
app.add_typer(workspace_app, name="workspace")


def main() -> None:
    try:
        app()
    except FdeError as exc:
        fail(exc)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        fail(ConfigError(f"invalid input: {problems}", hint="see the command's --help"))
