"""Settings and database for a CLI invocation, built once per command."""

from __future__ import annotations

from functools import cache

from core.logging import configure_logging
from core.settings import Settings, load_settings
from core.storage import Database, open_database


@cache
def settings() -> Settings:
    loaded = load_settings()
    configure_logging(loaded.log_level, loaded.log_format)
    return loaded


@cache
def database() -> Database:
    return open_database(settings())
