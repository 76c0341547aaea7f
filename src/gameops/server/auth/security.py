"""JWTs and agent tokens. No I/O. (Passwords: ``auth.passwords``.)"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import jwt

from gameops.server.errors import Unauthorized
from gameops.server.users.domain import Role

TokenKind = Literal["access", "refresh"]
_ALGORITHM = "HS256"


@dataclass(frozen=True)
class TokenClaims:
    user_id: uuid.UUID
    role: Role
    kind: TokenKind
    version: int  # the user's token version when issued (``users.token_version``)
    token_id: str  # the jti; a refresh token's row id
    family_id: uuid.UUID | None = None  # refresh tokens: the login they descend from


def issue_token(
    secret: str,
    user_id: uuid.UUID,
    role: Role,
    kind: TokenKind,
    now: datetime,
    ttl: timedelta,
    *,
    version: int = 0,
    token_id: uuid.UUID | None = None,
    family_id: uuid.UUID | None = None,
) -> str:
    claims: dict[str, object] = {
        "sub": str(user_id),
        "role": role.value,
        "typ": kind,
        "ver": version,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "jti": token_id.hex if token_id is not None else secrets.token_hex(8),
    }
    if family_id is not None:
        claims["fam"] = family_id.hex
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def read_token(secret: str, token: str, expected: TokenKind) -> TokenClaims:
    try:
        claims = jwt.decode(token, secret, algorithms=[_ALGORITHM], options={"require": ["exp"]})
    except jwt.ExpiredSignatureError as err:
        raise Unauthorized("Token expired") from err
    except jwt.PyJWTError as err:
        raise Unauthorized("Invalid token") from err
    if claims.get("typ") != expected:
        raise Unauthorized(f"Expected an {expected} token")
    try:
        family = claims.get("fam")
        return TokenClaims(
            uuid.UUID(claims["sub"]),
            Role(claims["role"]),
            expected,
            version=int(claims.get("ver", 0)),
            token_id=str(claims.get("jti", "")),
            family_id=uuid.UUID(family) if family is not None else None,
        )
    except (KeyError, ValueError, TypeError) as err:
        raise Unauthorized("Invalid token") from err


def hash_agent_token(token: str) -> str:
    # The token is 256 random bits, so a fast hash is safe and lets us look it up by hash.
    return hashlib.sha256(token.encode()).hexdigest()


def same_hash(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)
