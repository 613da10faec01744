"""Shared by the API tests: tokens per role, bearer headers."""

from __future__ import annotations

from core.storage import Database


def token(db: Database, role: str = "admin", name: str | None = None) -> str:
    from api.auth import create_token

    with db.session() as session:
        return create_token(session, name or f"t-{role}", role, actor="test").token


def bearer(db: Database, role: str = "admin", name: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(db, role, name)}"}
