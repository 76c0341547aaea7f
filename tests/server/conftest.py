from __future__ import annotations

import pytest


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """Every server test runs on the embedded default and on PostgreSQL."""
    backend_name: str = request.param
    return backend_name
