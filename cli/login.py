"""`fde login` / `fde logout`, and who the CLI decides as.

A decision in the terminal is taken by an API user, never by the OS account: the token comes
from `--token`, else `FDE_API_TOKEN`, else the one `fde login` stored in the data dir (mode
0600, written atomically, refused when anyone else could read it). The token is checked
against the API's users exactly as the API checks it, so roles, revocation and the audit
actor (`user:NAME`) are the same in both places."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Annotated, Any

import typer

from cli import context
from cli.output import say
from core.errors import ConfigError

__all__ = ["Token", "login", "logout", "principal", "token_file"]

Token = Annotated[str | None, typer.Option(
    "--token", envvar="FDE_API_TOKEN", show_envvar=True,
    help="your API token (default: FDE_API_TOKEN, else the one `fde login` stored)")]

_NO_TOKEN_HINT = ("run `fde login` (or pass --token / set FDE_API_TOKEN); an admin creates "
                  "tokens with `fde users create NAME --role ROLE`")


def token_file() -> Path:
    return context.settings().data_dir / "api-token"


def _stored() -> str | None:
    path = token_file()
    if not path.exists():
        return None
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise ConfigError(f"{path} can be read by other users; the token in it is refused",
                          hint=f"chmod 600 {path}, or run `fde login` again")
    return path.read_text().strip() or None


def principal(given: str | None) -> Any:
    """The API user behind the token (``api.auth.Principal``); a clear error otherwise."""
    from api.auth import authenticate

    token = (given or "").strip() or _stored()
    if not token:
        raise ConfigError("deciding needs an API token: the CLI acts as an API user",
                          hint=_NO_TOKEN_HINT)
    if len(token) > 512:
        raise ConfigError("--token is longer than any API token (512 characters at most)")
    with context.database().session() as session:
        found = authenticate(session, token)
    if found is None:
        raise ConfigError("the API token is unknown or revoked", hint=_NO_TOKEN_HINT)
    return found


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text + "\n")
        os.replace(tmp, path)  # whole or not at all
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def login(token: Annotated[str | None, typer.Option(
        "--token", envvar="FDE_API_TOKEN", help="the token (asked for, hidden, when unset)")
          ] = None) -> None:
    """Store your API token (mode 0600 in the data dir) for `fde queue claim|decide`."""
    given = token or typer.prompt("API token", hide_input=True)
    who = principal(given)  # checked before anything is written
    _write_private(token_file(), given.strip())
    say(f"logged in as {who.name} ({who.role}); token stored in {token_file()}")


def logout() -> None:
    """Forget the stored API token."""
    path = token_file()
    if path.exists():
        path.unlink()
        say(f"removed {path}")
    else:
        say("no stored token")
