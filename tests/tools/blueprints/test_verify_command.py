"""The shadow run `verify` proposes is a command the CLI has, with options it knows."""

from __future__ import annotations

import re

import pytest
import typer.main

from cli.main import app
from tools.blueprints.verify import _SHADOW, shadow_command


@pytest.mark.parametrize("kind", sorted(_SHADOW))
def test_the_proposed_shadow_command_exists(kind: str) -> None:
    command = shadow_command(_SHADOW[kind][0], "acme")
    words = command.split()
    assert words[:2] == ["fde", "shadow"]
    group = typer.main.get_command(app).commands["shadow"]  # type: ignore[attr-defined]
    sub = group.commands.get(words[2])
    assert sub is not None, f"{command!r}: no such sub-command"
    known = {opt for param in sub.params for opt in param.opts}
    for option in re.findall(r"(--[a-z-]+)", command):
        assert option in known, f"{command!r}: {words[2]} has no {option}"
