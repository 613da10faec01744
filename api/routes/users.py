"""`/users`: API users and their tokens, for admins — list (never a token, only its last
four characters) and revoke (audited; the token's API calls and console sessions stop at
once). Tokens are created in the terminal (`fde users create`), where one is shown once."""

from __future__ import annotations

from fastapi import APIRouter

from api.auth import Admin, TokenInfo, list_tokens, revoke_token
from api.deps import Db, NamePath

router = APIRouter(tags=["users"])
_ERR = {403: {"description": "needs the admin role"}, 404: {"description": "unknown user"},
        409: {"description": "already revoked"}}


@router.get("/users", response_model=list[TokenInfo], responses=_ERR)
def list_users(db: Db, _: Admin, include_revoked: bool = True) -> list[TokenInfo]:
    with db.session() as session:
        return list_tokens(session, include_revoked=include_revoked)


@router.post("/users/{name}/revoke", response_model=TokenInfo, responses=_ERR)
def revoke(name: NamePath, db: Db, who: Admin) -> TokenInfo:
    with db.session() as session:
        return revoke_token(session, name, actor=who.actor)
