"""Errors of the reconciliation room, as branches of the one tree in `core.errors`.

    ConfigError
     └── MappingError          the mapping file is malformed or names a missing table/column
    FdeError
     ├── UserSystemUnreachable the user's database cannot be reached (verdict INCOMPLETE)
     ├── SyncError             the Stripe snapshot could not be brought up to date
     └── RunNotFound           no stored recon run with that id (a NotFoundError)
"""

from __future__ import annotations

from core.errors import ConfigError, FdeError, NotFoundError


class MappingError(ConfigError):
    default_hint = "fix the mapping file (see sandbox/usersys/mapping.yaml for the format)"


class UserSystemUnreachable(FdeError):
    exit_code = 8
    default_hint = "check the engagement's user DB DSN and that the database server is up"


class SyncError(FdeError):
    exit_code = 9


class RunNotFound(NotFoundError):
    default_hint = "list runs with `fde recon list`"


__all__ = ["MappingError", "RunNotFound", "SyncError", "UserSystemUnreachable"]
