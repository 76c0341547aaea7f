from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from gameops.server.settings import Settings


def test_secret_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    first = settings.jwt_secret()
    assert len(first) >= 48
    assert settings.jwt_secret() == first
    assert Settings(data_dir=tmp_path, _env_file=None).jwt_secret() == first  # type: ignore[call-arg]
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600
    other = Settings(data_dir=tmp_path / "other", _env_file=None)  # type: ignore[call-arg]
    assert other.jwt_secret() != first


def test_defaults_to_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path.resolve()}/gameops.db"
    assert settings.redis_url is None


def test_environment_and_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAMEOPS_CORS_ORIGINS", "http://a.example, http://b.example")
    monkeypatch.setenv("GAMEOPS_CURRENCY", "EUR")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.cors_origins == ["http://a.example", "http://b.example"]
    assert settings.currency == "EUR"
    with pytest.raises(ValidationError, match="ISO 4217"):
        Settings(currency="euro", _env_file=None)  # type: ignore[call-arg]


def test_database_password_is_redacted() -> None:
    settings = Settings(database_url="postgresql+asyncpg://u:s3cret@db/x", _env_file=None)  # type: ignore[call-arg]
    assert "s3cret" not in settings.redacted_database_url
