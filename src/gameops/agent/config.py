"""The agent's configuration: a YAML file, every key overridable by ``GAMEOPS_AGENT_*``.

A missing or wrong key stops start-up with a :class:`ConfigError` that names the key and
says how to fix it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
import yaml
from msgspec import Meta, Struct, field, structs

from gameops.protocol.agent_token import AGENT_TOKEN_SHAPE, is_well_formed_agent_token

from .control.base import resolve_backend

ENV_PREFIX = "GAMEOPS_AGENT_"
# config.example.yaml's placeholders: used unchanged they can only ever be refused.
PLACEHOLDER_STATION_ID = UUID(int=0)
PLACEHOLDER_TOKEN = "paste-the-agent-token-here"
TOKEN_FIX = (
    "issue one on the dashboard's Admin page (Stations, Issue agent token) or with "
    "POST /api/v1/stations/<station.id>/agent-token as an admin, and paste all of it"
)
URL_SCHEMES = ("http://", "https://", "ws://", "wss://")
PROXY_SCHEMES = ("http://", "https://", "socks5://", "socks5h://", "socks4://")


class ConfigError(Exception):
    """The configuration cannot be used; the message says which key and how to fix it."""


# msgspec structs rather than pydantic models: the agent's memory budget (docs/agent.md).
class _Section(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class StationConfig(_Section, frozen=True):
    id: UUID
    name: Annotated[str, Meta(min_length=1, max_length=64)]
    # What the customer reads on the overlay: a gameops.i18n catalogue ("en", "de").
    language: Annotated[str, Meta(pattern="^[a-z]{2}$")] = "en"


class BackendConfig(_Section, frozen=True):
    url: str
    token: Annotated[str, Meta(min_length=1)]
    # "none": connect directly (the venue's server is on its LAN; a proxy set on the PC is
    # usually the customers' web filter). "system": the PC's proxy settings. Or a proxy URL.
    proxy: str = "none"
    # wss:// only: trust this PEM certificate (the venue server's own, or its CA) instead of
    # the system's authorities. Pins the server, and spares loading ~150 certificates.
    ca_file: Path | None = None

    @property
    def websocket_proxy(self) -> str | Literal[True] | None:
        """``proxy`` as the websockets library's ``connect(proxy=...)`` takes it."""
        return {"none": None, "system": True}.get(self.proxy, self.proxy)


class FeaturesConfig(_Section, frozen=True):
    # The system's own lock, and the log-off at the end of the grace. Unset: on, except
    # with control linux outside a service, where they are opt-in (see
    # AgentConfig.system_lock).
    auto_lock: bool | None = None
    auto_logout: bool | None = None
    show_overlay: bool = True


class SessionConfig(_Section, frozen=True):
    warning_time: Annotated[int, Meta(ge=60, le=3600)] = 300
    grace_period: Annotated[int, Meta(ge=0, le=600)] = 60


class SystemConfig(_Section, frozen=True):
    monitor_interval: Annotated[int, Meta(ge=5, le=3600)] = 60
    control: Literal["auto", "windows", "linux", "simulated"] = "auto"
    service: bool = False  # running as a Windows service (session 0): log off via WTS
    # Where the overlay runs: "separate", a user-session process the service restarts when
    # it is killed (needed by a Windows service, which has no desktop); "in_process", a
    # thread of this process (an agent running in the user's session; ~13 MB less);
    # "auto": separate when running as a service, else in_process.
    overlay: Literal["auto", "in_process", "separate"] = "auto"
    # More overlay kills or freezes than this in a minute during a session is tampering:
    # the station locks (and logs off after the grace) until staff clear it.
    overlay_restarts_per_minute: Annotated[int, Meta(ge=1, le=60)] = 3
    state_file: Path | None = None


class LogConfig(_Section, frozen=True):
    file: Path | None = None
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["console", "json"] = "console"


class AgentConfig(Struct, frozen=True, kw_only=True):
    station: StationConfig
    backend: BackendConfig
    features: FeaturesConfig = field(default_factory=FeaturesConfig)
    session: SessionConfig = field(default_factory=SessionConfig)
    system: SystemConfig = field(default_factory=SystemConfig)
    log: LogConfig = field(default_factory=LogConfig)

    @property
    def ws_url(self) -> str:
        """The agent WebSocket endpoint for this station, from ``backend.url``."""
        base = self.backend.url.rstrip("/")
        if base.startswith("http"):
            base = "ws" + base[len("http") :]
        if not base.endswith("/ws/agent"):
            base += "/ws/agent"
        return f"{base}/{self.station.id}"

    @property
    def uses_tls(self) -> bool:
        """Whether the agent may open a TLS connection: a ``wss://`` server, or a proxy
        (which may be ``https://``, or the PC's own)."""
        return self.ws_url.startswith("wss://") or self.backend.proxy != "none"

    @property
    def system_actions_opt_in(self) -> bool:
        """Linux outside a service: most likely a developer trying the agent on their own
        desktop, whose session must not be locked or ended unless they ask for it."""
        return resolve_backend(self.system.control) == "linux" and not self.system.service

    @property
    def system_lock(self) -> bool:
        """Lock through the system (beside the overlay's lock view, or instead of it)."""
        return _opted(self.features.auto_lock, self.system_actions_opt_in)

    @property
    def system_logoff(self) -> bool:
        """Log the user off at the end of the grace period."""
        return _opted(self.features.auto_logout, self.system_actions_opt_in)

    @property
    def overlay_in_process(self) -> bool:
        mode = self.system.overlay
        return mode == "in_process" or (mode == "auto" and not self.system.service)

    def state_path(self, config_path: Path) -> Path:
        return self.system.state_file or config_path.parent / "agent-state.json"


def _opted(setting: bool | None, opt_in: bool) -> bool:
    return (not opt_in) if setting is None else setting


SECTIONS: dict[str, type[_Section]] = {
    info.name: info.type for info in structs.fields(AgentConfig) if isinstance(info.type, type)
}


def load_config(path: Path, environ: Mapping[str, str]) -> AgentConfig:
    """Read ``path`` (if it exists), apply env overrides, validate."""
    raw = _read_yaml(path)
    _apply_env(raw, environ)
    return parse_config(raw, path)


def parse_config(raw: Mapping[str, Any], source: Path | None = None) -> AgentConfig:
    """``raw`` (sections of plain values; strings are converted, as from the environment)
    as a validated :class:`AgentConfig`, or a :class:`ConfigError` listing every problem.

    msgspec stops at a section's first error, so sections are checked one by one and
    missing keys are listed up front: a first run learns everything it must set at once.
    """
    where = source.name if source is not None else "the config"
    problems = [
        f"  - {key} is not a known section: use one of {', '.join(SECTIONS)}"
        for key in raw
        if key not in SECTIONS
    ]
    sections: dict[str, _Section] = {}
    for name, kind in SECTIONS.items():
        section, found = _section(name, raw.get(name, {}), kind, where)
        problems += found
        if section is not None:
            sections[name] = section
    system = sections.get("system")
    if isinstance(system, SystemConfig) and system.service and system.overlay == "in_process":
        # A service runs in session 0: Tk there would draw on a desktop nobody sees.
        problems.append(
            "  - system.overlay: in_process cannot show anything with system.service: true "
            "(a service has no desktop); use separate or auto, or run the agent in the "
            f"user's session with service: false; fix it in {where}"
        )
    if problems:
        raise ConfigError(_report(problems, source))
    return AgentConfig(**sections)  # type: ignore[arg-type]


def _section(
    name: str, value: Any, kind: type[_Section], where: str
) -> tuple[_Section | None, list[str]]:
    if not isinstance(value, dict):
        return None, [f"  - {name} must be a mapping of keys, not {value!r}"]
    required = (info.name for info in structs.fields(kind) if info.required)
    missing = [f"{name}.{key}" for key in required if key not in value]
    if missing:
        return None, [
            f"  - {key} is missing: set it in {where} or with {_env(key)}" for key in missing
        ]
    try:
        section = msgspec.convert(value, kind, strict=False, dec_hook=_path)
    except msgspec.ValidationError as err:
        return None, [_conversion_problem(name, value, err, where)]
    problems = _value_problems(section, name, where)
    return (None if problems else section), problems


def _value_problems(section: _Section, name: str, where: str) -> list[str]:
    """What msgspec's types cannot say: placeholders, URL schemes, files, token shape."""
    if isinstance(section, BackendConfig):
        return _backend_problems(section, name, where)
    if isinstance(section, StationConfig) and section.id == PLACEHOLDER_STATION_ID:
        return [
            f"  - {name}.id is still the placeholder from config.example.yaml: set this "
            "station's id (the dashboard's Admin page shows it with the station's agent "
            f"token; or GET /api/v1/stations) in {where} or with {_env(name + '.id')}"
        ]
    return []


def _conversion_problem(
    name: str, value: dict[str, Any], err: msgspec.ValidationError, where: str
) -> str:
    # msgspec says "Expected `int` >= 60 - at `$.warning_time`"; sections are flat.
    message, _, at = str(err).partition(" - at `$.")
    key = at.rstrip("`")
    unknown = message.removeprefix("Object contains unknown field ")
    if unknown != message:
        return f"  - {name}.{unknown.strip('`')} is not a known key: remove it or fix its spelling"
    return _invalid(f"{name}.{key}", message, value.get(key), where)


def _backend_problems(backend: BackendConfig, name: str, where: str) -> list[str]:
    problems = _token_problems(backend.token, f"{name}.token", where)
    if not backend.url.startswith(URL_SCHEMES):
        must = f"must start with {', '.join(URL_SCHEMES)}"
        problems.append(_invalid(f"{name}.url", must, backend.url, where))
    if backend.ca_file is not None and not backend.ca_file.is_file():
        problems.append(_invalid(f"{name}.ca_file", "no such file", str(backend.ca_file), where))
    if backend.proxy not in ("none", "system") and not backend.proxy.startswith(PROXY_SCHEMES):
        must = f"must be none, system or a proxy URL ({', '.join(PROXY_SCHEMES)})"
        problems.append(_invalid(f"{name}.proxy", must, backend.proxy, where))
    return problems


def _token_problems(token: str, key: str, where: str) -> list[str]:
    # The value is a secret, or part of one: it is never repeated in the message.
    if token == PLACEHOLDER_TOKEN:
        problem = "is still the placeholder from config.example.yaml"
    elif not is_well_formed_agent_token(token):
        problem = f"is not an agent token ({len(token)} characters; one is {AGENT_TOKEN_SHAPE})"
    else:
        return []
    return [f"  - {key} {problem}: {TOKEN_FIX}; set it in {where} or with {_env(key)}"]


def _path(kind: type, value: Any) -> Any:
    if kind is Path and isinstance(value, str | Path):
        return Path(value)
    raise TypeError("expected a file path")  # msgspec adds the key; the report, the value


def _invalid(key: str, message: str, got: Any, where: str) -> str:
    return f"  - {key}: {message} (got {got!r}); fix it in {where} or with {_env(key)}"


def _env(key: str) -> str:
    return ENV_PREFIX + key.replace(".", "_").upper()


def _report(problems: list[str], source: Path | None) -> str:
    lines = [f"invalid agent configuration ({source or 'no file'}):", *problems]
    lines.append("  see config.example.yaml for every key with a comment")
    if source is not None and not source.exists():
        lines.append(f"  ({source} does not exist: copy config.example.yaml there and edit it)")
    return "\n".join(lines)


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
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("_")
        if section not in SECTIONS or not key:
            raise ConfigError(
                f"environment variable {name} names no config key: use "
                f"{ENV_PREFIX}<SECTION>_<KEY> with SECTION one of {', '.join(SECTIONS)}"
            )
        target = raw.setdefault(section, {})
        if not isinstance(target, dict):
            raise ConfigError(f"config key {section} must be a mapping")
        target[key] = value
