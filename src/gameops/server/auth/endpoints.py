from __future__ import annotations

from fastapi import APIRouter

from gameops.server.auth import service
from gameops.server.auth.schemas import LoginRequest, RefreshRequest, TokenPair
from gameops.server.deps import CurrentUser, DatabaseDep, DbDep, PasswordsDep, TokenKeysDep
from gameops.server.users.schemas import UserPublic

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login")
async def login(
    body: LoginRequest, keys: TokenKeysDep, passwords: PasswordsDep, database: DatabaseDep
) -> TokenPair:
    return await service.login(keys, passwords, database, body.username, body.password)


@router.post("/refresh")
async def refresh(body: RefreshRequest, keys: TokenKeysDep, db: DbDep) -> TokenPair:
    return await service.refresh(keys, db, body.refresh_token)


@router.get("/me")
async def me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)
