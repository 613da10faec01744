"""Connection strings: ops hands us SQLAlchemy-style URLs (postgresql+psycopg://…); psycopg
wants the plain libpq form."""

from __future__ import annotations


def libpq_url(url: str) -> str:
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix):]
    return url
