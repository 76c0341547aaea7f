"""Users as typed domain events."""

from __future__ import annotations

import uuid

from gameops.server.events.base import DomainEvent


class UserTokensRevoked(DomainEvent, frozen=True, kw_only=True):
    """Every token issued to the user before now stopped working (a password or role
    change, the account disabled): their open dashboards, on whichever replica, are closed."""

    user_id: uuid.UUID
    reason: str
