"""Blueprint errors: bad files name the field that is wrong; an unapproved apply is refused."""

from __future__ import annotations

from core.errors import ConfigError, PermissionDenied

__all__ = ["ApprovalRequired", "BlueprintInvalid"]


class BlueprintInvalid(ConfigError):
    """The blueprint file (or what it references on the account) is not usable as written."""

    default_hint = "fix the named field in the blueprint file and run `fde blueprint plan` again"


class ApprovalRequired(PermissionDenied):
    default_hint = (
        "review `fde blueprint plan FILE --engagement NAME`, then an engineer approves it with "
        "`fde blueprint approve FILE --engagement NAME --approver WHO --digest DIGEST` and "
        "passes the token to `fde blueprint apply --approval TOKEN`"
    )
