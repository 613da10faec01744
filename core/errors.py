"""One exception tree for the whole service.

Every error carries a human message (what went wrong) and a hint (what to do about it);
the CLI prints both and exits non-zero, the API turns them into 4xx/5xx bodies.

    FdeError
     ├── ConfigError             settings or environment are wrong (bad FDE_DATABASE_URL, ...)
     │    └── PortInUse            a server's port is taken by another process
     ├── StorageError            the app database cannot be reached or migrated
     ├── NotFoundError
     │    ├── EngagementNotFound
     │    └── UnknownObjectPrefix   an id whose prefix names no Stripe resource we know
     ├── StripeKeyError          a key that is malformed, or whose mode contradicts the engagement
     ├── PermissionDenied        a write/money tier that was not granted
     └── StripeError             wraps the SDK's errors, keeping code, http_status, request_id
          ├── StripeUnreachable    connection refused, DNS, timeouts after retries
          ├── StripeAuthError      401/403 from Stripe
          ├── StripeRateLimited    429s that outlived our retries
          └── StripeRequestError   4xx answers (invalid request, not found, card errors)
"""

from __future__ import annotations


class FdeError(Exception):
    """Base of every error this service raises on purpose."""

    exit_code = 1
    default_hint = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint

    def __str__(self) -> str:
        return self.message


class ConfigError(FdeError):
    exit_code = 2


class PortInUse(ConfigError):
    pass


class StorageError(FdeError):
    exit_code = 11  # not 3: that is a recon run's INCOMPLETE (cli/gate.py)


class NotFoundError(FdeError):
    exit_code = 4


class EngagementNotFound(NotFoundError):
    default_hint = "list engagements with `fde engagement list`, add one with `fde engagement add`"


class UnknownObjectPrefix(NotFoundError):
    default_hint = "pass a Stripe id such as cus_..., in_..., pi_... (see `fde stripe get --help`)"


class StripeKeyError(FdeError):
    exit_code = 5


class PermissionDenied(FdeError):
    exit_code = 6


class StripeError(FdeError):
    exit_code = 7

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        code: str | None = None,
        http_status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.code = code
        self.http_status = http_status
        self.request_id = request_id


class StripeUnreachable(StripeError):
    default_hint = (
        "check FDE_STRIPE_API_BASE and that the server is up (`fde sandbox up` for the replica)"
    )


class StripeAuthError(StripeError):
    default_hint = "check the engagement's key: it must be a valid sk_/rk_ key for this account"


class StripeRateLimited(StripeError):
    default_hint = "lower the request rate (FDE_STRIPE_RATE_LIMIT) or retry later"


class StripeRequestError(StripeError):
    pass
