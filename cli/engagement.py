"""`fde engagement add|list|show`: the user accounts under care."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
import yaml
from pydantic import SecretStr, ValidationError
from rich.table import Table

from cli import context, wiring
from cli.output import console, print_json, say
from core import audit, engagements
from core.errors import ConfigError, StripeKeyError
from core.secrets import secret_box
from tools.stripe.verify import verify_key

app = typer.Typer(help="Engagements: a Stripe account and its user's own system.",
                  no_args_is_help=True)


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="short name, e.g. acme")],
    stripe_key: Annotated[str, typer.Option(
        envvar="FDE_ENGAGEMENT_STRIPE_KEY", prompt=True, hide_input=True,
        help="restricted (rk_) or secret (sk_) key; prefer the env var over the flag")],
    mode: Annotated[str, typer.Option(help="test or live")] = "test",
    api_base: Annotated[str | None, typer.Option(
        help="Stripe API address (default: FDE_STRIPE_API_BASE)")] = None,
    connect: Annotated[list[str] | None, typer.Option(
        help="connected account id (repeatable)")] = None,
    tier: Annotated[str, typer.Option(help="read, write or money")] = "read",
    user_db: Annotated[str | None, typer.Option(help="user system DSN")] = None,
    mapping: Annotated[str | None, typer.Option(help="mapping file for the user system")] = None,
    webhook_url: Annotated[list[str] | None, typer.Option(help="handler URL (repeatable)")] = None,
    verify: Annotated[bool, typer.Option(
        help="call Stripe once to check the key and learn the account id (GET /v1/account; "
             "on a server without it, or a restricted key without that permission, "
             "GET /v1/balance, then GET /v1/customers?limit=1)")] = True,
) -> None:
    """Register an engagement. The key is checked (format, mode, and by default one call to
    Stripe) before anything is stored; on any problem nothing is written. A key shorter than
    Stripe's own is accepted only when the server accepts it (--verify)."""
    try:
        spec = engagements.EngagementCreate(
            name=name, stripe_mode=mode, stripe_key=SecretStr(stripe_key.strip()),
            stripe_api_base=api_base, connect_accounts=connect or [],
            user_db_dsn=SecretStr(user_db) if user_db else None, mapping_path=mapping,
            webhook_urls=webhook_url or [], tier=tier,
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid engagement: {problems}",
                          hint="see `fde engagement add --help`") from None
    settings = context.settings()
    gateway = wiring.gateway_from_spec(settings, spec)
    checked = "not verified (--no-verify)"
    if verify:
        verified = verify_key(gateway)
        checked = verified.describe()
        if verified.account is not None:
            spec = spec.model_copy(update={"stripe_account_id": verified.account.id})
    elif gateway.key_info.short:
        raise StripeKeyError(
            f"the Stripe API key {gateway.key_info.redacted} is too short "
            f"({len(spec.stripe_key.get_secret_value())} characters) to be one of Stripe's and "
            "cannot be checked with --no-verify; it looks truncated",
            hint="copy the whole key from the dashboard; if your Stripe-compatible server "
                 "issues short keys, add it with --verify so the server can accept it")
    with context.database().session() as session:
        created = engagements.add(session, secret_box(settings), spec, actor=wiring.actor())
    say(f"[green]added[/] engagement {created.name} ({created.stripe_mode}, key "
        f"{created.stripe_key_hint}, account {created.stripe_account_id or 'unknown'}): "
        f"key {checked}")


@app.command("webhook-secret")
def webhook_secret(
    name: Annotated[str, typer.Argument(help="engagement name")],
    add: Annotated[bool, typer.Option(
        "--add", help="store a new secret beside the current ones (both verify: rotation)")
    ] = False,
    replace: Annotated[bool, typer.Option(
        help="store a new secret and retire the current ones")] = False,
) -> None:
    """Show the signing secrets the webhook receiver verifies this engagement's events with
    (hints only) and whether a rotation is in progress; --add or --replace stores a new one
    from FDE_WEBHOOK_SECRET or a hidden prompt."""
    from tools.webhooks.secrets import active_hints, add_secret

    settings = context.settings()
    if not (add or replace):  # showing never prompts and never writes
        with context.database().session() as session:
            engagements.get(session, name)
            hints = active_hints(session, name)
        if not hints:
            say(f"no webhook secret for {name}: store one with "
                f"`fde engagement webhook-secret {name} --add`")
            return
        state = (f"rotation in progress: {len(hints)} secrets verify; retire the old ones "
                 "with --replace" if len(hints) > 1 else "one secret, no rotation")
        say(f"{name}: {state}")
        for hint, stored_at in hints:
            say(f"  {hint}  stored {stored_at:%Y-%m-%d %H:%M} UTC")
        return
    with context.database().session() as session:
        engagements.get(session, name)  # an unknown name fails before the prompt
    secret = os.environ.get("FDE_WEBHOOK_SECRET") or typer.prompt(
        "whsec_ signing secret", hide_input=True)
    with context.database().session() as session:
        hint = add_secret(session, secret_box(settings), name, secret, actor=wiring.actor(),
                          replace=replace)
    say(f"[green]stored[/] webhook secret {hint} for {name}"
        f"{' (previous secrets retired)' if replace else ''}")


@app.command("integration")
def integration(
    name: Annotated[str, typer.Argument(help="engagement name")],
    file: Annotated[Path | None, typer.Option(
        "--file", exists=True, dir_okay=False,
        help="integration.yaml to store: api_version, expected_livemode, handlers")] = None,
) -> None:
    """Show, or replace from --file, what the user declares about their integration (the
    handlers per event type that the map and the checks compare Stripe against)."""
    from tools.checks.engagement import profile_path
    from tools.checks.sources import load_profile

    settings = context.settings()
    path = profile_path(settings, name)
    with context.database().session() as session:
        engagements.get(session, name)
        if file is None:
            print_json(load_profile(path).model_dump(mode="json"))
            return
        profile = load_profile(file)  # validated before anything is replaced
        if profile.shadow is not None:  # its paths are relative to the file given
            profile = profile.model_copy(
                update={"shadow": profile.shadow.resolved(file.resolve().parent)})
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".yaml.tmp")
        tmp.write_text(yaml.safe_dump(profile.model_dump(mode="json"), sort_keys=True))
        tmp.replace(path)
        audit.record(session, actor=wiring.actor(), action="engagement.integration.set",
                     target=name, engagement=name,
                     details={"handlers": len(profile.handlers),
                              "api_version": profile.api_version})
    say(f"[green]stored[/] integration profile for {name}: {len(profile.handlers)} handler(s)")


@app.command("list")
def list_() -> None:
    """All engagements."""
    with context.database().session() as session:
        rows = engagements.list_all(session)
    table = Table("name", "mode", "account", "key", "tier", "api base")
    for e in rows:
        table.add_row(e.name, e.stripe_mode, e.stripe_account_id or "-", e.stripe_key_hint,
                      e.tier, e.stripe_api_base or "(default)")
    console.print(table)


@app.command("show")
def show(name: str) -> None:
    """One engagement as JSON (keys are never shown, only their hint)."""
    with context.database().session() as session:
        print_json(engagements.get(session, name).model_dump(mode="json"))
