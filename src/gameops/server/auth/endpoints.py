from __future__ import annotations

from fastapi import APIRouter

from gameops.server.auth import service
from gameops.server.auth.schemas import LoginRequest, RefreshRequest, TokenPair
from gameops.server.deps import ContextDep, CurrentUser, DbDep
from gameops.server.users.schemas import UserPublic

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login")
async def login(body: LoginRequest, context: ContextDep, db: DbDep) -> TokenPair:
    return await service.login(context, db, body.username, body.password)


@router.post("/refresh")
async def refresh(body: RefreshRequest, context: ContextDep, db: DbDep) -> TokenPair:
    return await service.refresh(context, db, body.refresh_token)


@router.get("/me")
async def me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)
