from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from gameops.server.settings import Settings
from tests.support.cli_process import kill_if_running, read_until, spawn_cli


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


def test_replicas_refuse_to_start_without_explicit_shared_keys(tmp_path: Path) -> None:
    redis = "redis://127.0.0.1:6379/0"
    with pytest.raises(ValidationError, match="GAMEOPS_SECRET_KEY and GAMEOPS_DEVICE_KEY"):
        Settings(data_dir=tmp_path, redis_url=redis, _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="set GAMEOPS_DEVICE_KEY explicitly"):
        Settings(data_dir=tmp_path, redis_url=redis, secret_key="s" * 40, _env_file=None)  # type: ignore[call-arg]
    both = Settings(
        data_dir=tmp_path, redis_url=redis, secret_key="s" * 40, device_key="d" * 40, _env_file=None
    )  # type: ignore[call-arg]
    assert both.jwt_secret() == "s" * 40
    assert not (tmp_path / "secret_key").exists()  # nothing generated for a replica


async def test_serve_with_redis_and_no_keys_exits_with_a_clear_message(tmp_path: Path) -> None:
    env = {
        "GAMEOPS_DATA_DIR": str(tmp_path),
        "GAMEOPS_REDIS_URL": "redis://127.0.0.1:6379/0",
        "GAMEOPS_SECRET_KEY": "",
        "GAMEOPS_DEVICE_KEY": "",
    }
    process = await spawn_cli("serve", "--port", "0", "--no-migrate", env=env)
    try:
        line = await read_until(process, "configuration error", 30)
        assert "GAMEOPS_SECRET_KEY and GAMEOPS_DEVICE_KEY" in line
        assert await asyncio.wait_for(process.wait(), 30) == 2
    finally:
        await kill_if_running(process)
