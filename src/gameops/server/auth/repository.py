"""Every query on refresh tokens."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from gameops.server.db.models import RefreshToken


async def claim(db: AsyncSession, token_id: uuid.UUID, now: datetime) -> uuid.UUID | None:
    """Mark an unused, live refresh token used; its family id, or None if it is not such a
    token. One conditional ``UPDATE … RETURNING``: of two refreshes racing with the same
    token exactly one sees its row still unused, so a token rotates exactly once."""
    family: uuid.UUID | None = await db.scalar(
        update(RefreshToken)
        .where(
            RefreshToken.id == token_id,
            RefreshToken.used_at.is_(None),
            RefreshToken.revoked_at.is_(None),
            RefreshToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(RefreshToken.family_id)
    )
    return family


async def get(db: AsyncSession, token_id: uuid.UUID) -> RefreshToken | None:
    return await db.get(RefreshToken, token_id)


async def revoke_family(db: AsyncSession, family_id: uuid.UUID, now: datetime) -> int:
    result = await db.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def delete_expired(db: AsyncSession, before: datetime) -> None:
    await db.execute(delete(RefreshToken).where(RefreshToken.expires_at < before))
