"""StripeGateway: the only code in the product that talks to Stripe.

A thin layer over the official SDK's `StripeClient` (retries, idempotency keys, encoding,
error classes come from there). The gateway adds: key and mode checks before any request,
the per-account rate limit and 429 handling (`transport`), permission tiers on writes,
cursor pagination that yields plain dicts, and errors translated into `core.errors`.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator, Mapping
from hashlib import sha256
from random import Random
from typing import Any, Literal

import stripe
from pydantic import BaseModel

from core.errors import PermissionDenied, StripeRequestError, UnknownObjectPrefix
from core.ids import IDEMPOTENCY_KEY_MAX, STRIPE_PREFIXES, stripe_resource_for
from core.redact import redact_secrets
from tools.stripe.config import GatewayConfig
from tools.stripe.error_map import map_sdk_error
from tools.stripe.keys import KeyInfo, check_mode, parse_key
from tools.stripe.ratelimit import RateLimiterRegistry, Sleep, shared_limiters
from tools.stripe.sdk_logging import install_sdk_log_redaction
from tools.stripe.tiers import WriteTier, required_tier, tier_allows
from tools.stripe.transport import GatewayStats, RateLimitPolicy, ThrottledHTTPClient

__all__ = ["AccountSummary", "Resource", "StripeGateway"]

log = logging.getLogger(__name__)

Resource = str | type[stripe.APIResource[Any]]
"""A list path ("/v1/customers"), an object type ("customer") or an SDK class (stripe.Customer)."""

_ID = re.compile(r"[A-Za-z0-9_]{3,255}")
_PATH = re.compile(r"/v1/[A-Za-z0-9_./-]+")
_PATH_BY_TYPE = {obj_type: path for obj_type, path in STRIPE_PREFIXES.values()}
# raw_request() takes request options and SDK switches from the same **kwargs as params.
_RESERVED_PARAMS = frozenset(
    {
        "api_key",
        "stripe_version",
        "stripe_account",
        "stripe_context",
        "max_network_retries",
        "idempotency_key",
        "content_type",
        "headers",
        "base",
        "usage",
    }
)


class AccountSummary(BaseModel):
    """`GET /v1/account`, reduced to what `fde doctor` shows."""

    id: str
    country: str | None = None
    default_currency: str | None = None
    charges_enabled: bool | None = None
    payouts_enabled: bool | None = None
    display_name: str | None = None
    key: KeyInfo
    api_base: str
    stripe_account: str | None = None


class StripeGateway:
    """Read by default; writes need a granted tier and an idempotency key.

    Construction parses the key and checks its mode against the engagement before anything
    touches the network. ``limiters`` (shared per account), ``http_client`` (the SDK HTTP
    client to wrap), ``sleep`` and ``rng`` are seams for tests.
    """

    def __init__(
        self,
        config: GatewayConfig,
        *,
        limiters: RateLimiterRegistry | None = None,
        http_client: stripe.HTTPClient | None = None,
        sleep: Sleep = time.sleep,
        rng: Random | None = None,
    ) -> None:
        self._config = config
        self._key = parse_key(config.api_key)
        check_mode(self._key, config.expected_mode)
        install_sdk_log_redaction()

        registry = shared_limiters() if limiters is None else limiters
        bucket = registry.bucket(self._limiter_key(), config.rate_limit, config.burst)
        inner = http_client or stripe.RequestsClient(timeout=config.timeout)
        self._http = ThrottledHTTPClient(
            inner,
            bucket,
            policy=RateLimitPolicy(
                max_rate_limit_retries=config.max_rate_limit_retries,
                max_retry_after=config.max_retry_after,
            ),
            sleep=sleep,
            rng=rng,
        )
        base = config.api_base
        self._client = stripe.StripeClient(
            config.api_key.get_secret_value(),
            stripe_account=config.stripe_account,
            stripe_version=config.stripe_version,
            base_addresses={"api": base, "files": base, "connect": base, "meter_events": base},
            max_network_retries=config.max_retries,
            http_client=self._http,
        )

    # -- introspection ----------------------------------------------------------------------

    @property
    def config(self) -> GatewayConfig:
        return self._config

    @property
    def key_info(self) -> KeyInfo:
        return self._key

    def stats(self) -> GatewayStats:
        return self._http.stats()

    def server_time(self) -> int | None:
        """Stripe's "now" as its last answer's ``Date`` header said (a sandbox's clock may be
        far from ours)."""
        return self._http.server_time()

    def __repr__(self) -> str:
        return (
            f"StripeGateway(api_base={self._config.api_base!r}, key={self._key.redacted!r}, "
            f"tier={self._config.tier!r}, stripe_account={self._config.stripe_account!r})"
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> StripeGateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reads ------------------------------------------------------------------------------

    def account(self) -> AccountSummary:
        """`GET /v1/account`: proves Stripe is reachable and the key is accepted."""
        data = self._request("get", "/v1/account")
        profile = data.get("business_profile") or {}
        dashboard = (data.get("settings") or {}).get("dashboard") or {}
        return AccountSummary(
            id=str(data.get("id", "")),
            country=data.get("country"),
            default_currency=data.get("default_currency"),
            charges_enabled=data.get("charges_enabled"),
            payouts_enabled=data.get("payouts_enabled"),
            display_name=profile.get("name") or dashboard.get("display_name"),
            key=self._key,
            api_base=self._config.api_base,
            stripe_account=self._config.stripe_account,
        )

    def retrieve(self, object_id: str, *, expand: list[str] | None = None) -> dict[str, Any]:
        """Any object by its id, the resource chosen from the id's prefix."""
        shown = redact_secrets(object_id.strip()[:80])
        if not _ID.fullmatch(object_id):
            raise UnknownObjectPrefix(f"{shown!r} is not a Stripe object id")
        found = stripe_resource_for(object_id)
        if found is None:
            prefix = object_id.split("_", 1)[0] + "_"
            raise UnknownObjectPrefix(
                f"no Stripe resource is known for the id {shown!r} (prefix {prefix!r})"
            )
        _, path = found
        return self._request("get", f"{path}/{object_id}", {"expand": expand} if expand else None)

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A read of any `/v1/...` path, for what `retrieve` and `list_all` do not cover."""
        return self._request("get", path, params)

    def list_all(
        self,
        resource: Resource,
        params: Mapping[str, Any] | None = None,
        *,
        page_size: int = 100,
    ) -> Iterator[dict[str, Any]]:
        """Every object of a list (or search) endpoint, page by page, as plain dicts.

        ``params`` pass through (``created`` windows, ``customer``, ``status``, ``expand``);
        ``starting_after`` in ``params`` resumes an interrupted walk, ``ending_before``
        walks backwards.
        """
        if not 1 <= page_size <= 100:
            raise ValueError(f"page_size must be 1..100 (Stripe's limit), not {page_size}")
        path = _list_path(resource)
        query: dict[str, Any] = dict(params or {})
        query.setdefault("limit", page_size)
        search = path.endswith("/search")
        backwards = "ending_before" in query
        seen_cursors: set[str] = set()
        while True:
            page = self._request("get", path, query)
            data = page.get("data")
            if not isinstance(data, list):
                raise StripeRequestError(f"GET {path} did not answer a list (no 'data' array)")
            yield from data
            if not page.get("has_more") or not data:
                return
            if search:
                cursor = page.get("next_page")
                param = "page"
            else:
                cursor = (data[0] if backwards else data[-1]).get("id")
                param = "ending_before" if backwards else "starting_after"
            if not isinstance(cursor, str) or cursor in seen_cursors:
                raise StripeRequestError(
                    f"GET {path} says has_more but the cursor did not advance ({cursor!r})"
                )
            seen_cursors.add(cursor)
            query[param] = cursor

    def preview_invoice(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /v1/invoices/create_preview``: a POST that stores nothing (Stripe keeps no
        preview), so it is a read and needs no write tier or idempotency key."""
        return self._request("post", "/v1/invoices/create_preview", params)

    # -- writes -----------------------------------------------------------------------------

    def write(
        self,
        method: Literal["post", "delete"],
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str,
        tier: WriteTier = "write",
    ) -> dict[str, Any]:
        """A create/update/delete. Refused unless this gateway was granted ``tier``.

        Endpoints that move money need the ``money`` tier whatever ``tier`` says (see
        `tiers`). ``idempotency_key`` should come from `core.ids.idempotency_key(...)` so a
        replayed plan item is the same request to Stripe (keys are pruned after 24 h).
        """
        if method not in ("post", "delete"):
            raise ValueError(f"write() sends post or delete, not {method!r}; reads use get()")
        _check_idempotency_key(idempotency_key)
        tier = required_tier(method, path, params, tier)
        granted = self._config.tier
        if not tier_allows(granted, tier):
            raise PermissionDenied(
                f"{method.upper()} {path} needs the {tier!r} tier; this gateway was granted "
                f"{granted!r}",
                hint=(
                    "writes need an engineer's approval; money moves (refunds, credits, "
                    "charges, payouts, cancellations) need the money tier"
                ),
            )
        if tier == "money" and self._key.mode == "live" and not self._config.allow_live_money:
            raise PermissionDenied(
                f"{method.upper()} {path} moves money in live mode, which this engagement "
                "does not allow",
                hint="enable live money actions on the engagement (an admin), or use test mode",
            )
        log.info(
            "stripe write %s %s",
            method.upper(),
            path,
            extra={"tier": tier, "idempotency_key": idempotency_key},
        )
        return self._request(method, path, params, idempotency_key=idempotency_key)

    # -- plumbing ---------------------------------------------------------------------------

    def _limiter_key(self) -> str:
        # Stripe counts per account; the key (hashed: never kept in clear) stands for the
        # account until we know its id, the connected account narrows it for Connect.
        digest = sha256(self._config.api_key.get_secret_value().encode()).hexdigest()[:16]
        return f"{self._config.api_base}|{digest}|{self._config.stripe_account or '-'}"

    def _request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        if not _PATH.fullmatch(path) or ".." in path:
            raise ValueError(f"not a Stripe API path: {path!r} (expected /v1/...)")
        params = dict(params or {})
        clash = _RESERVED_PARAMS.intersection(params)
        if clash:
            raise ValueError(f"parameter name(s) reserved by the SDK: {sorted(clash)}")
        if idempotency_key:
            params["idempotency_key"] = idempotency_key
        try:
            response = self._client.raw_request(method, path, **params)
        except stripe.StripeError as exc:
            raise map_sdk_error(
                exc,
                key=self._config.api_key,
                method=method,
                path=path,
                api_base=self._config.api_base,
            ) from None
        data = json.loads(response.body)
        if not isinstance(data, dict):
            raise StripeRequestError(f"{method.upper()} {path} did not answer a JSON object")
        return data


def _list_path(resource: Resource) -> str:
    if isinstance(resource, type):
        if not issubclass(resource, stripe.ListableAPIResource):
            raise ValueError(f"{resource.__name__} is not a listable Stripe resource")
        return resource.class_url()
    if resource.startswith("/"):
        return resource
    path = _PATH_BY_TYPE.get(resource)
    if path is None:
        raise ValueError(f"unknown Stripe resource {resource!r}; pass a path such as /v1/customers")
    return path


def _check_idempotency_key(key: str) -> None:
    if not isinstance(key, str) or not key:
        raise ValueError("every write needs an idempotency key (core.ids.idempotency_key(...))")
    if len(key) > IDEMPOTENCY_KEY_MAX:
        raise ValueError(
            f"idempotency key is {len(key)} characters; Stripe accepts at most "
            f"{IDEMPOTENCY_KEY_MAX} (build it with core.ids.idempotency_key(...))"
        )
    if not (key.isascii() and key.isprintable()) or key != key.strip():
        raise ValueError("idempotency key must be printable ASCII (it travels as an HTTP header)")
