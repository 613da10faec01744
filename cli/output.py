"""Terminal output: one console, everything printed through redaction."""

from __future__ import annotations

import json
from typing import Any, NoReturn

from rich.console import Console

from core.errors import FdeError
from core.redact import redact_secrets, redact_value

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def say(message: str) -> None:
    console.print(redact_secrets(message))


def print_json(data: Any) -> None:
    console.print_json(json.dumps(redact_value(data, pii=False), default=str))


def fail(exc: FdeError) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {redact_secrets(exc.message)}")
    if exc.hint:
        err_console.print(f"  [yellow]fix:[/] {redact_secrets(exc.hint)}")
    raise SystemExit(exc.exit_code)
