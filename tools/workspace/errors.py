"""Errors of the workspace room, as branches of the one tree in `core.errors`.

    ConfigError
     └── WorkspaceInputError   an empty note, a decision without a title, a malformed e-mail
    FdeError
     └── WorkspaceStateError   the record's state forbids it (accepting a superseded decision)
    NotFoundError
     └── WorkspaceNotFound     no decision / review item with that number or id
"""

from __future__ import annotations

from core.errors import ConfigError, FdeError, NotFoundError


class WorkspaceInputError(ConfigError):
    pass


class WorkspaceStateError(FdeError):
    exit_code = 10


class WorkspaceNotFound(NotFoundError):
    pass
