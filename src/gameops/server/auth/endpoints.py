from __future__ import annotations

from fastapi import APIRouter, Request

from gameops.server.auth import service
from gameops.server.auth.schemas import LoginRequest, RefreshRequest, TokenPair
from gameops.server.deps import AuthenticatorDep, CurrentUser, DbDep, TokenKeysDep, client_ip
from gameops.server.users.schemas import UserPublic

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login")
async def login(body: LoginRequest, request: Request, auth: AuthenticatorDep) -> TokenPair:
    """Rate-limited per account and per client address: past the limit 429 with
    ``Retry-After``."""
    return await auth.login(body.username, body.password, client_ip(request))


@router.post("/refresh")
async def refresh(body: RefreshRequest, keys: TokenKeysDep, db: DbDep) -> TokenPair:
    return await service.refresh(keys, db, body.refresh_token)


@router.get("/me")
async def me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)
