"""Reading the sandbox replica's request log over its admin HTTP endpoint
(``GET /_replica/requests?detail=1&since_seq=N``, up to 1000 rows a page)."""

from __future__ import annotations

import httpx

from core.errors import ConfigError
from tools.advisor.model import RequestRecord

__all__ = ["fetch_replica_log"]


def fetch_replica_log(base_url: str, *, timeout: float = 30.0) -> list[RequestRecord]:
    records: list[RequestRecord] = []
    since = 0
    with httpx.Client(base_url=base_url, timeout=timeout) as http:
        while True:
            try:
                answer = http.get("/_replica/requests", params={"detail": 1, "since_seq": since})
            except httpx.HTTPError as exc:
                raise ConfigError(f"cannot read the request log at {base_url}: {exc}",
                                  hint="start the replica (`fde sandbox up`) or pass --log FILE"
                                  ) from None
            if answer.status_code == 404:
                raise ConfigError(
                    f"{base_url} has no request log endpoint (it is not the sandbox replica)",
                    hint="export the account's request log from Stripe and pass --log FILE")
            answer.raise_for_status()
            page = answer.json().get("entries", [])
            if not page:
                return records
            records.extend(_record(row) for row in page)
            since = page[-1]["seq"]


def _record(row: dict) -> RequestRecord:
    return RequestRecord(
        request_id=row["request_id"], at=row["at"], method=row["method"], path=row["path"],
        query=row.get("query") or "", status=row["status"], api_version=row.get("api_version"),
        idempotency_key=row.get("idempotency_key"), account=row.get("account"))
