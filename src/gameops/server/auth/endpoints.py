from __future__ import annotations

from fastapi import APIRouter, Request, status

from gameops.server.auth.schemas import LoginRequest, RefreshRequest, TokenPair
from gameops.server.deps import AuthenticatorDep, CurrentUser, client_ip
from gameops.server.users.schemas import UserPublic

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login")
async def login(body: LoginRequest, request: Request, auth: AuthenticatorDep) -> TokenPair:
    """Rate-limited per account and per client address: past the limit 429 with
    ``Retry-After``."""
    return await auth.login(body.username, body.password, client_ip(request))


@router.post("/refresh")
async def refresh(body: RefreshRequest, auth: AuthenticatorDep) -> TokenPair:
    """A new pair; the refresh token sent is used up. Sent again later, it revokes every
    token of its login (reuse means it was copied)."""
    return await auth.refresh(body.refresh_token)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(body: RefreshRequest, auth: AuthenticatorDep) -> None:
    """End the login this refresh token belongs to: none of its refresh tokens work again
    (access tokens already issued expire on their own within minutes)."""
    await auth.logout(body.refresh_token)


@router.get("/me")
async def me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)
