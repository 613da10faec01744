"""API tokens and roles. A token is shown once at creation; only its SHA-256 is stored (a
32-byte random token needs no slow hash). Roles are ordered: viewer < engineer < approver <
admin; each endpoint names the least role it needs.

Clients send `Authorization: Bearer <token>` or `x-api-key: <token>` (what langgraph-sdk
sends for `api_key=`)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import Depends, Request
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.errors import Conflict
from api.tables import tokens
from core import audit
from core.errors import ConfigError, FdeError, NotFoundError, PermissionDenied
from core.ids import new_id

__all__ = ["ROLES", "Principal", "Role", "TokenCreated", "TokenInfo", "create_token",
           "list_tokens", "require", "revoke_token"]

Role = Literal["viewer", "engineer", "approver", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "engineer", "approver", "admin")
TOKEN_PREFIX = "fde_"


class Unauthenticated(FdeError):
    default_hint = "send `Authorization: Bearer <token>`; create one with `fde users create`"


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    kind: str = "user"  # "cli" for someone at the terminal with database access

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.name}"

    def at_least(self, role: Role) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


class TokenCreated(BaseModel):
    name: str
    role: Role
    token: str  # shown once; only its hash is stored


class TokenInfo(BaseModel):
    """A user as an admin sees them: never the token, only its last four characters."""

    name: str
    role: Role
    hint: str
    created_at: datetime
    revoked_at: datetime | None


class UserNotFound(NotFoundError):
    default_hint = "list users with `fde users list` (or GET /users)"


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _info(row: Any) -> TokenInfo:
    return TokenInfo(name=row.name, role=row.role, hint=f"…{row.hint}",
                     created_at=_aware(row.created_at), revoked_at=_aware(row.revoked_at))


def list_tokens(session: Session, *, include_revoked: bool = True) -> list[TokenInfo]:
    query = sa.select(tokens).order_by(tokens.c.created_at)
    if not include_revoked:
        query = query.where(tokens.c.revoked_at.is_(None))
    return [_info(r) for r in session.execute(query)]


def revoke_token(session: Session, name: str, *, actor: str) -> TokenInfo:
    """Revoke a user's token (its API calls and console sessions stop at once); audited."""
    row = session.execute(sa.select(tokens).where(tokens.c.name == name)
                          .with_for_update()).first()
    if row is None:
        raise UserNotFound(f"no user named {name!r}")
    if row.revoked_at is not None:
        raise Conflict(f"{name}'s token was already revoked at "
                       f"{_aware(row.revoked_at):%Y-%m-%d %H:%M:%S} UTC",
                       hint="create a new user for them with `fde users create`")
    at = datetime.now(UTC)
    session.execute(tokens.update().where(tokens.c.id == row.id, tokens.c.revoked_at.is_(None))
                    .values(revoked_at=at))
    audit.record(session, actor=actor, action="user.revoke", target=name,
                 details={"role": row.role, "hint": row.hint})
    return _info(row).model_copy(update={"revoked_at": at})


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, name: str, role: str, *, actor: str) -> TokenCreated:
    if role not in ROLES:
        raise ConfigError(f"unknown role {role!r}", hint=f"use one of: {', '.join(ROLES)}")
    if not name or len(name) > 64:
        raise ConfigError("a user name is 1 to 64 characters")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        with session.begin_nested():
            session.execute(tokens.insert().values(
                id=new_id("tok"), name=name, role=role, token_hash=_hash(token),
                hint=token[-4:], created_at=datetime.now(UTC), revoked_at=None))
    except IntegrityError:
        raise ConfigError(f"a user named {name!r} already exists",
                          hint="pick another name") from None
    audit.record(session, actor=actor, action="user.create", target=name,
                 details={"role": role})
    return TokenCreated(name=name, role=role, token=token)  # type: ignore[arg-type]


def authenticate(session: Session, token: str) -> Principal | None:
    row = session.execute(sa.select(tokens.c.name, tokens.c.role).where(
        tokens.c.token_hash == _hash(token), tokens.c.revoked_at.is_(None))).first()
    return Principal(name=row.name, role=row.role) if row else None


def _token_from(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.headers.get("x-api-key") or None


def require(role: Role):  # noqa: ANN201 - a FastAPI dependency
    """Dependency: the caller's principal, which must hold at least ``role``."""

    def dependency(request: Request) -> Principal:
        token = _token_from(request)
        if token is None:
            raise Unauthenticated("no API token on the request")
        with request.app.state.db.session() as session:
            principal = authenticate(session, token)
        if principal is None:
            raise Unauthenticated("the API token is unknown or revoked")
        if not principal.at_least(role):
            raise PermissionDenied(f"this needs the {role} role; {principal.name} is a "
                                   f"{principal.role}", hint="ask an admin for a token "
                                   "with that role (`fde users create NAME --role ROLE`)")
        return principal

    return dependency


Viewer = Annotated[Principal, Depends(require("viewer"))]
Engineer = Annotated[Principal, Depends(require("engineer"))]
Approver = Annotated[Principal, Depends(require("approver"))]
Admin = Annotated[Principal, Depends(require("admin"))]
