"""The agent's configuration: a YAML file, every key overridable by ``GAMEOPS_AGENT_*``.

A missing or wrong key stops start-up with a :class:`ConfigError` that names the key and
says how to fix it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

ENV_PREFIX = "GAMEOPS_AGENT_"


class ConfigError(Exception):
    """The configuration cannot be used; the message says which key and how to fix it."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StationConfig(_Section):
    id: UUID
    name: str = Field(min_length=1, max_length=64)


class BackendConfig(_Section):
    url: str
    token: str = Field(min_length=1)

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, url: str) -> str:
        if not url.startswith(("http://", "https://", "ws://", "wss://")):
            raise ValueError("must start with http://, https://, ws:// or wss://")
        return url.rstrip("/")


class FeaturesConfig(_Section):
    auto_lock: bool = True
    auto_logout: bool = True
    show_overlay: bool = True


class SessionConfig(_Section):
    warning_time: int = Field(default=300, ge=60, le=3600)
    grace_period: int = Field(default=60, ge=0, le=600)


class SystemConfig(_Section):
    monitor_interval: int = Field(default=60, ge=5, le=3600)
    control: Literal["auto", "windows", "linux", "simulated"] = "auto"
    service: bool = False  # running as a Windows service (session 0): log off via WTS
    state_file: Path | None = None


class LogConfig(_Section):
    file: Path | None = None
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["console", "json"] = "console"


class AgentConfig(_Section):
    station: StationConfig
    backend: BackendConfig
    features: FeaturesConfig = FeaturesConfig()
    session: SessionConfig = SessionConfig()
    system: SystemConfig = SystemConfig()
    log: LogConfig = LogConfig()

    @property
    def ws_url(self) -> str:
        """The agent WebSocket endpoint for this station, from ``backend.url``."""
        base = self.backend.url
        if base.startswith("http"):
            base = "ws" + base[len("http") :]
        if not base.endswith("/ws/agent"):
            base += "/ws/agent"
        return f"{base}/{self.station.id}"

    def state_path(self, config_path: Path) -> Path:
        return self.system.state_file or config_path.parent / "agent-state.json"


def load_config(path: Path, environ: Mapping[str, str]) -> AgentConfig:
    """Read ``path`` (if it exists), apply env overrides, validate."""
    raw = _read_yaml(path)
    _apply_env(raw, environ)
    try:
        return AgentConfig.model_validate(raw)
    except ValidationError as err:
        message = _explain(err, path)
        if not path.exists():
            message += f"\n  ({path} does not exist: copy config.example.yaml there and edit it)"
        raise ConfigError(message) from err


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}  # every key may come from the environment
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"cannot read config file {path}: {err}") from err
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {path} must hold a mapping of sections, e.g. 'station:'")
    return raw


def _apply_env(raw: dict[str, Any], environ: Mapping[str, str]) -> None:
    # GAMEOPS_AGENT_BACKEND_TOKEN -> backend.token; section names have no underscore.
    sections = AgentConfig.model_fields
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("_")
        if section not in sections or not key:
            raise ConfigError(
                f"environment variable {name} names no config key: use "
                f"{ENV_PREFIX}<SECTION>_<KEY> with SECTION one of {', '.join(sections)}"
            )
        target = raw.setdefault(section, {})
        if not isinstance(target, dict):
            raise ConfigError(f"config key {section} must be a mapping")
        target[key] = value


def _required_keys(key: str) -> list[str]:
    """A missing section stands for its required keys, which is what the user must set."""
    field = AgentConfig.model_fields.get(key)
    section = field.annotation if field is not None else None
    if isinstance(section, type) and issubclass(section, _Section):
        return [f"{key}.{name}" for name, sub in section.model_fields.items() if sub.is_required()]
    return [key]


def _explain(err: ValidationError, path: Path) -> str:
    lines = [f"invalid agent configuration ({path}):"]
    for problem in err.errors(include_url=False):
        key = ".".join(str(part) for part in problem["loc"])
        env = ENV_PREFIX + key.replace(".", "_").upper()
        if problem["type"] == "missing":
            for required in _required_keys(key):
                env = ENV_PREFIX + required.replace(".", "_").upper()
                lines.append(f"  - {required} is missing: set it in {path.name} or with {env}")
        elif problem["type"] == "extra_forbidden":
            lines.append(f"  - {key} is not a known key: remove it or fix its spelling")
        else:
            lines.append(
                f"  - {key}: {problem['msg']} (got {problem.get('input')!r}); "
                f"fix it in {path.name} or with {env}"
            )
    lines.append("  see config.example.yaml for every key with a comment")
    return "\n".join(lines)
