"""Self-service suites: blocks of 2 s renewed 1.8 s ahead, so billing runs in seconds."""

from __future__ import annotations

import pytest

from gameops.server.settings import Settings

BLOCK_SECONDS = 2
RATE = 3600  # per hour: one minor unit a second


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "play_block_seconds": BLOCK_SECONDS,
            # Renewed right after each block starts: 1.8 s of slack before the block ends.
            # With 1.5 s, two tests once waited in vain in a loaded CI run (PostgreSQL; not
            # reproduced here): a renewal held up past its block's end would do that.
            "play_renew_lead_seconds": 1.8,
            "play_renew_poll_seconds": 0.1,
            "logoff_grace_seconds": 1,
            "venue_name": "Pixel Lounge",
            "login_failures_per_minute": 5,
        }
    )
