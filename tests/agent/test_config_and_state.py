"""Config loading (YAML + env, errors that name the key) and the atomic state file."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest

from gameops.agent.config import ConfigError, load_config, parse_config
from gameops.agent.effects import SavedSession, SavedTamperLock
from gameops.agent.statefile import LoadedState, StateFile, state_key
from gameops.protocol.agent_token import new_agent_token

STATION = str(uuid4())
TOKEN = new_agent_token()
REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_example_config_is_valid_once_its_placeholders_are_filled() -> None:
    env = {"GAMEOPS_AGENT_STATION_ID": STATION, "GAMEOPS_AGENT_BACKEND_TOKEN": TOKEN}
    config = load_config(REPO / "config.example.yaml", env)
    assert config.session.warning_time == 300
    assert config.session.grace_period == 60
    assert config.system.monitor_interval == 60
    assert config.features.show_overlay is True


def test_yaml_with_env_overrides(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"station: {{id: '{STATION}', name: PC-01}}\n"
        f"backend: {{url: 'http://venue:8000/', token: {TOKEN}}}\n"
        "features: {auto_logout: true}\n",
    )
    env = {
        "GAMEOPS_AGENT_FEATURES_AUTO_LOGOUT": "false",
        "GAMEOPS_AGENT_SESSION_GRACE_PERIOD": "30",
    }
    config = load_config(path, env)
    assert config.features.auto_logout is False
    assert config.session.grace_period == 30
    assert config.ws_url == f"ws://venue:8000/ws/agent/{STATION}"
    assert config.state_path(path) == tmp_path / "agent-state.json"


def test_a_missing_key_names_the_key_and_the_fix(tmp_path: Path) -> None:
    path = write(
        tmp_path, f"station: {{id: '{STATION}', name: PC-01}}\nbackend: {{url: 'ws://x'}}\n"
    )
    with pytest.raises(ConfigError) as err:
        load_config(path, {})
    assert "backend.token is missing" in str(err.value)
    assert "GAMEOPS_AGENT_BACKEND_TOKEN" in str(err.value)


def test_wrong_values_and_unknown_keys_are_named(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "station: {id: 'not-a-uuid', name: PC-01}\n"
        "backend: {url: 'ftp://x', token: t}\n"
        "session: {warning_tme: 300}\n",
    )
    with pytest.raises(ConfigError) as err:
        load_config(path, {})
    message = str(err.value)
    assert "station.id:" in message
    assert "backend.url: must start with http://" in message
    assert "session.warning_tme is not a known key" in message


def test_an_env_variable_naming_no_section_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="GAMEOPS_AGENT_BACKND_URL names no config key"):
        load_config(tmp_path / "absent.yaml", {"GAMEOPS_AGENT_BACKND_URL": "ws://x"})


def saved() -> SavedSession:
    moment = datetime(2026, 11, 23, 12, tzinfo=UTC)
    return SavedSession(uuid4(), moment, 1.5, 600.0, moment, "ending", 42.0)


KEY = state_key("agent-token-of-this-station")


def test_state_file_round_trip_and_removal(tmp_path: Path) -> None:
    state = StateFile(tmp_path / "sub" / "state.json", KEY)
    assert state.load() == LoadedState()
    session = saved()
    state.save(session)
    assert StateFile(state.path, KEY).load() == LoadedState(session)
    assert os.listdir(tmp_path / "sub") == ["state.json"]  # no temp file left behind
    lock = SavedTamperLock("overlay killed", datetime(2026, 11, 23, 12, tzinfo=UTC), 60.0)
    state.save_tamper_lock(lock)
    state.save(None)
    assert StateFile(state.path, KEY).load() == LoadedState(None, lock)  # the lock stays
    state.save_tamper_lock(None)
    assert not state.path.exists()


def test_a_hand_edited_state_file_is_refused(tmp_path: Path) -> None:
    # Before: the agent trusted whatever the file said (a customer wrote 10 hours into it).
    state = StateFile(tmp_path / "state.json", KEY)
    state.save(saved())
    raw = json.loads(state.path.read_text())
    raw["state"]["session"]["remaining_seconds"] = 36000.0
    state.path.write_text(json.dumps(raw))
    loaded = StateFile(state.path, KEY).load()
    assert loaded.session is None
    assert loaded.problem is not None and "altered or forged" in loaded.problem


def test_a_state_file_signed_with_another_key_or_unsigned_is_refused(tmp_path: Path) -> None:
    StateFile(tmp_path / "state.json", state_key("someone-elses-token")).save(saved())
    assert StateFile(tmp_path / "state.json", KEY).load().problem is not None
    unsigned = {"session_id": str(uuid4()), "phase": "active"}  # the v0.1 format
    (tmp_path / "state.json").write_text(json.dumps(unsigned))
    loaded = StateFile(tmp_path / "state.json", KEY).load()
    assert loaded.session is None
    assert loaded.problem is not None and "not signed" in loaded.problem


def test_a_damaged_state_file_is_refused_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text('{"session_id": "x"')
    loaded = StateFile(path, KEY).load()
    assert loaded.session is None
    assert loaded.problem is not None


def test_a_failed_write_keeps_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = StateFile(tmp_path / "state.json", KEY)
    first = saved()
    state.save(first)

    def crash(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        state.save(saved())
    assert StateFile(state.path, KEY).load().session == first
    assert os.listdir(tmp_path) == ["state.json"]


def test_service_with_an_in_process_overlay_is_refused() -> None:
    raw = {
        "station": {"id": str(uuid4()), "name": "PC-1"},
        "backend": {"url": "ws://127.0.0.1:1", "token": "t"},
        "system": {"service": True, "overlay": "in_process"},
    }
    with pytest.raises(ConfigError, match=r"system\.overlay: in_process cannot show anything"):
        parse_config(raw)


def test_the_agent_exits_with_code_2_for_a_service_with_an_in_process_overlay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gameops.agent.main import EXIT_CONFIG_ERROR, run

    config = tmp_path / "config.yaml"
    config.write_text(
        f"station: {{id: '{uuid4()}', name: PC-1}}\nbackend: {{url: 'ws://127.0.0.1:1', "
        "token: t}\nsystem: {service: true, overlay: in_process}\n"
    )
    assert run(config) == EXIT_CONFIG_ERROR == 2
    assert "in_process cannot show anything" in capsys.readouterr().err


def test_the_agent_refuses_to_start_without_a_config_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from gameops.agent.main import EXIT_CONFIG_ERROR, run

    for name in [name for name in os.environ if name.startswith("GAMEOPS_AGENT_")]:
        monkeypatch.delenv(name)
    assert run(tmp_path / "config.yaml") == EXIT_CONFIG_ERROR
    error = capsys.readouterr().err
    assert "station.id is missing" in error
    assert "backend.token is missing" in error
    assert "does not exist: copy config.example.yaml there" in error


def test_the_example_config_used_unchanged_is_refused_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from gameops.agent.main import EXIT_CONFIG_ERROR, run

    for name in [name for name in os.environ if name.startswith("GAMEOPS_AGENT_")]:
        monkeypatch.delenv(name)
    config = tmp_path / "config.yaml"
    config.write_text((REPO / "config.example.yaml").read_text())
    assert run(config) == EXIT_CONFIG_ERROR
    error = capsys.readouterr().err
    assert "station.id is still the placeholder from config.example.yaml" in error
    assert "GET /api/v1/stations" in error
    assert "backend.token is still the placeholder from config.example.yaml" in error
    assert "POST /api/v1/stations/<station.id>/agent-token as an admin" in error
    assert not (tmp_path / "agent-state.json.running").exists()  # it never started


@pytest.mark.parametrize(
    "token",
    [
        TOKEN[:-5],  # cut short when copied
        TOKEN + "x",
        TOKEN.removeprefix("gat_"),  # the prefix left behind
        TOKEN[:20] + " " + TOKEN[21:],
        "Bearer " + TOKEN,
    ],
    # TOKEN is random: ids that stay put, so every pytest-xdist worker collects the same tests
    ids=["cut-short", "one-too-many", "no-prefix", "a-space", "bearer"],
)
def test_a_malformed_token_is_refused_without_repeating_it(tmp_path: Path, token: str) -> None:
    path = write(
        tmp_path, f"station: {{id: '{STATION}', name: PC-01}}\nbackend: {{url: 'ws://x'}}\n"
    )
    with pytest.raises(ConfigError) as err:
        load_config(path, {"GAMEOPS_AGENT_BACKEND_TOKEN": token})
    message = str(err.value)
    assert "backend.token is not an agent token" in message
    assert "one is gat_ followed by 43 letters, digits, - or _" in message
    assert "GAMEOPS_AGENT_BACKEND_TOKEN" in message
    assert token[4:24] not in message  # a secret, or most of one


def test_the_tokens_the_server_issues_are_well_formed() -> None:
    from gameops.protocol.agent_token import is_well_formed_agent_token

    assert all(is_well_formed_agent_token(new_agent_token()) for _ in range(200))


def test_run_marker_tells_an_unclean_stop(tmp_path: Path) -> None:
    state = StateFile(tmp_path / "state.json", KEY)
    assert state.mark_running() is None
    assert state.mark_running() is not None  # never marked stopped: killed
    state.mark_stopped()
    assert state.mark_running() is None


def test_the_agent_imports_nothing_of_the_server() -> None:
    import subprocess
    import sys

    probe = (
        "import sys, gameops.agent.main, gameops.agent.desktop, gameops.agent.overlay, "
        "gameops.agent.control.windows, gameops.agent.control.usersession, "
        "gameops.agent.control.keyboard, gameops.agent.control.linux\n"
        "heavy = ('gameops.server', 'fastapi', 'sqlalchemy', 'uvicorn', 'httpx')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))"
    )
    output = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "[]"


@pytest.mark.parametrize(
    ("proxy", "expected"),
    [("none", None), ("system", True), ("http://proxy:3128", "http://proxy:3128")],
)
def test_proxy_setting_as_the_websocket_library_takes_it(
    tmp_path: Path, proxy: str, expected: object
) -> None:
    env = {"GAMEOPS_AGENT_BACKEND_PROXY": proxy, "GAMEOPS_AGENT_BACKEND_TOKEN": TOKEN}
    path = write(
        tmp_path, f"station: {{id: '{STATION}', name: PC-01}}\nbackend: {{url: 'ws://x'}}\n"
    )
    assert load_config(path, env).backend.websocket_proxy == expected


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "station: {name: ''}\n"
        "backend: {url: 'ws://x', token: t, proxy: 'ftp://p'}\n"
        "session: {grace_period: 'soon'}\n"
        "sound: {volume: 3}\n",
    )
    with pytest.raises(ConfigError) as err:
        load_config(path, {})
    message = str(err.value)
    assert "sound is not a known section" in message
    assert "station.id is missing" in message
    assert "backend.proxy: must be none, system or a proxy URL" in message
    assert "session.grace_period: Expected `int`, got `str` (got 'soon')" in message
    assert "GAMEOPS_AGENT_SESSION_GRACE_PERIOD" in message
