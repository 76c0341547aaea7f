from __future__ import annotations

import pytest

from tests.support.wake import udp_receiver  # noqa: F401 - a fixture (wake-on-LAN tests)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """Every server test runs on the embedded default and on PostgreSQL."""
    backend_name: str = request.param
    return backend_name
