"""The wire format: every message round-trips, and bad frames fail with a clear reason."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from gameops.protocol import (
    AGENT_MESSAGES,
    SERVER_MESSAGES,
    Ack,
    Heartbeat,
    Login,
    ProtocolError,
    SessionInfo,
    SessionStart,
    SyncResponse,
    decode,
    encode,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_envelope_shape() -> None:
    message_id = uuid.uuid4()
    frame = json.loads(encode(Ack(id=message_id), message_id))
    assert frame == {"type": "ack", "id": str(message_id), "data": {"id": str(message_id)}}


@pytest.mark.parametrize(
    "payload",
    [
        Heartbeat(cpu=10.5, ram=55, active_session_id=uuid.uuid4(), remaining_seconds=120),
        SessionStart(
            id=uuid.uuid4(),
            started_at=NOW,
            scheduled_end_at=NOW,
            duration_minutes=60,
            user_name="Ana",
        ),
        SyncResponse(
            session=SessionInfo(
                id=uuid.uuid4(), started_at=NOW, scheduled_end_at=NOW, duration_minutes=30
            ),
            server_time=NOW,
        ),
    ],
)
def test_round_trip(payload: object) -> None:
    registry = AGENT_MESSAGES if isinstance(payload, Heartbeat) else SERVER_MESSAGES
    message_id = uuid.uuid4()
    assert decode(encode(payload, message_id), registry) == (message_id, payload)  # type: ignore[arg-type]


def test_every_message_type_is_registered_once() -> None:
    assert not set(AGENT_MESSAGES) & set(SERVER_MESSAGES)
    assert all(name == cls.TYPE for name, cls in {**AGENT_MESSAGES, **SERVER_MESSAGES}.items())


@pytest.mark.parametrize(
    ("frame", "detail"),
    [
        ("{", "malformed envelope"),
        ('{"data": {}}', "malformed envelope: frame: Object missing required field `type`"),
        ('{"type": "session_start", "data": {}}', "unknown message type 'session_start'"),
        ('{"type": "heartbeat", "data": {"cpu": -1, "ram": 0}}', "invalid heartbeat: cpu"),
        ('{"type": "ack", "data": {"id": "nope"}}', "invalid ack: id"),
        ('{"type": "ack", "id": "nope", "data": {}}', "malformed envelope: id"),
    ],
)
def test_bad_frames_name_the_problem(frame: str, detail: str) -> None:
    with pytest.raises(ProtocolError) as error:
        decode(frame, AGENT_MESSAGES)
    assert error.value.detail.startswith(detail)


def test_naive_times_are_refused() -> None:
    frame = (
        encode(
            SessionStart(id=uuid.uuid4(), started_at=NOW, scheduled_end_at=NOW, duration_minutes=1)
        )
        .replace("+00:00", "")
        .replace("Z", "")
    )
    with pytest.raises(ProtocolError, match=r"scheduled_end_at|started_at"):
        decode(frame, SERVER_MESSAGES)


def test_a_login_never_shows_its_secret_or_ticket_code() -> None:
    login = Login(username="ada", secret="73915", ticket="ABCD-EFGH-JKLM")
    shown = f"{login!r} {login!s} {[login]}"
    assert "73915" not in shown and "EFGH" not in shown
    assert "ada" in shown
    _, decoded = decode(encode(login), AGENT_MESSAGES)
    assert decoded == login  # the wire still carries it: only to the server
