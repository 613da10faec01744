"""Stripe-shaped API errors: raise `ApiError` anywhere in a handler, the app renders it.

Body: ``{"error": {"type", "code", "message", "param", "doc_url", ...}}``; the HTTP status
decides which exception class the official SDK raises (400/404 InvalidRequestError,
401 AuthenticationError, 402 CardError, 403 PermissionError, 409 IdempotencyError or
lock errors, 429 RateLimitError, 5xx APIError).
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answered to the client in Stripe's wire format."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
        commit: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.headers = headers or {}
        self.extra = extra or {}
        # True: the handler's writes stand and the answer is stored for idempotent replay
        # (a declined card that recorded a failed charge); False: everything rolls back.
        self.commit = commit

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"message": self.message, "type": self.type}
        if self.code:
            err["code"] = self.code
            err["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            err["param"] = self.param
        err.update(self.extra)
        return {"error": err}


def resource_missing(object_name: str, object_id: str, *, param: str = "id") -> ApiError:
    return ApiError(
        404, f"No such {object_name}: '{object_id}'", code="resource_missing", param=param
    )


def missing_param(name: str) -> ApiError:
    return ApiError(400, f"Missing required param: {name}.", code="parameter_missing", param=name)


def invalid_param(name: str, message: str) -> ApiError:
    return ApiError(400, message, code="parameter_invalid", param=name)


def unknown_param(name: str) -> ApiError:
    return ApiError(
        400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name
    )


def unrecognized_url(method: str, path: str) -> ApiError:
    return ApiError(
        404,
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
        "or we can help at https://support.stripe.com/.",
    )
