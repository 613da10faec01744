"""`fde doctor`: every prerequisite on one screen, each line green or red with a fix."""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from typing import Annotated

import stripe
import typer
from pydantic import BaseModel

from cli import context, wiring
from cli.output import console
from core.errors import FdeError
from core.redact import redact_secrets
from core.storage import schema_revision
from tools.stripe.gateway import StripeGateway
from tools.stripe.verify import verify_key


class Check(BaseModel):
    name: str
    ok: bool
    detail: str
    hint: str = ""


def _run(name: str, probe: Callable[[], str]) -> Check:
    try:
        return Check(name=name, ok=True, detail=probe())
    except FdeError as exc:
        return Check(name=name, ok=False, detail=exc.message, hint=exc.hint)


def _data_dir() -> str:
    path = context.settings().data_dir
    path.mkdir(parents=True, exist_ok=True)
    if not os.access(path, os.W_OK):
        raise FdeError(f"{path} is not writable", hint="set FDE_DATA_DIR to a writable folder")
    return str(path.resolve())


def _database() -> str:
    db = context.database()
    current, head = schema_revision(db.engine)
    url = db.engine.url.render_as_string(hide_password=True)
    return f"{url} (schema {current}, newest {head})"


def _stripe(engagement: str | None) -> tuple[Check, Check]:
    built: list[StripeGateway] = []

    def key_mode() -> str:
        # Building the gateway parses the key and checks its mode, without any request.
        built.append(wiring.gateway(engagement))
        info = built[0].key_info
        short = " (shorter than Stripe's own keys)" if info.short else ""
        return f"{info.kind} key{short}, {info.mode} mode, matches the engagement"

    def reachable() -> str:
        # a server without GET /v1/account (an emulator), or a restricted key without that
        # permission, is still reachable: verify_key says which read accepted the key
        verified = verify_key(built[0])
        if verified.account is not None:
            return f"{verified.account.api_base} answers as {verified.account.id}"
        return f"{built[0].config.api_base} {verified.describe()}"

    mode = _run("stripe key", key_mode)
    if not mode.ok:
        return mode, Check(name="stripe reachable", ok=False, detail="skipped: fix the key first")
    return mode, _run("stripe reachable", reachable)


def doctor(
    engagement: Annotated[str | None, typer.Option(
        help="check this engagement's Stripe connection instead of the default key")] = None,
) -> None:
    """Check configuration, database, Stripe reachability and key mode, and versions."""
    checks = [
        _run("configuration", lambda: f"loaded (data dir {context.settings().data_dir})"),
        _run("data dir", _data_dir),
        _run("database", _database),
    ]
    checks.extend(_stripe(engagement))
    checks.append(Check(
        name="versions", ok=True,
        detail=f"python {platform.python_version()}, stripe-python {stripe.VERSION}, "
        f"Stripe API {stripe.api_version}",
    ))
    for check in checks:
        mark = "[green]✓[/]" if check.ok else "[red]✗[/]"
        console.print(f"{mark} {check.name:<17} {redact_secrets(check.detail)}")
        if check.hint:
            console.print(f"  [yellow]fix:[/] {redact_secrets(check.hint)}")
    if not all(c.ok for c in checks):
        raise typer.Exit(1)
