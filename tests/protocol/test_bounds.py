"""Everything an agent sends is bounded, and no frame makes decode raise anything but
ProtocolError (issue 11 §3)."""

from __future__ import annotations

import json

import pytest

from gameops.protocol import AGENT_MESSAGES, SERVER_MESSAGES, AgentHello, ProtocolError, decode
from gameops.protocol.messages import MAX_FRAME_CHARS

DEEP = 5_000


def hello(specs: object, **fields: object) -> str:
    data = {"agent_version": "1.0", "os": "Windows 11", "specs": specs, **fields}
    return json.dumps({"type": "agent_hello", "data": data})


@pytest.mark.parametrize(
    "frame",
    [
        "[" * DEEP + "]" * DEEP,
        '{"type": "heartbeat", "data": ' + "[" * DEEP + "]" * DEEP + "}",
        '{"type": "heartbeat", "data": {"cpu": 1, "ram": 1, "x": ' + "[" * DEEP + "]" * DEEP + "}}",
        hello({"a": 1}).replace('"a": 1', '"a": ' + '{"b": ' * DEEP + "1" + "}" * DEEP),
    ],
    ids=["bare", "data", "unknown-field", "specs"],
)
@pytest.mark.parametrize("registry", [AGENT_MESSAGES, SERVER_MESSAGES], ids=["agent", "server"])
def test_deep_nesting_is_a_protocol_error(frame: str, registry: dict[str, type]) -> None:
    with pytest.raises(ProtocolError):
        decode(frame, registry)


def test_a_frame_over_the_limit_is_refused_before_parsing() -> None:
    frame = hello({"blob": "x" * 10_000_000})
    with pytest.raises(ProtocolError) as error:
        decode(frame, AGENT_MESSAGES)
    assert error.value.detail.startswith("frame too large")
    assert len(hello({"cpu_model": "x" * 200})) < MAX_FRAME_CHARS


def test_real_specs_pass() -> None:
    specs = {
        "hostname": "PC-01",
        "cpu_model": "AMD Ryzen 7 7800X3D 8-Core Processor",
        "cpu_cores": 8,
        "cpu_threads": None,
        "ram_mb": 32_000,
        "macs": ["aa:bb:cc:dd:ee:ff"],
        "gpus": [],
        "disks": {"C:": 512.5},
    }
    _, payload = decode(hello(specs), AGENT_MESSAGES)
    assert isinstance(payload, AgentHello) and payload.specs == specs


@pytest.mark.parametrize(
    ("specs", "where"),
    [
        ({f"k{i}": i for i in range(65)}, "specs"),  # too many keys
        ({"k" * 65: 1}, "specs"),  # key too long
        ({"cpu": "x" * 257}, "specs"),  # value too long
        ({"macs": list(range(33))}, "specs"),  # list too long
        ({"a": [[1]]}, "specs"),  # three levels
        ({"a": {"b": {"c": 1}}}, "specs"),
        ({"a": {"b": [1]}}, "specs"),
        ({"cpu": "Intel\u0000"}, "specs"),
        ({"": 1}, "specs"),
    ],
)
def test_specs_are_bounded_in_size_depth_and_count(specs: object, where: str) -> None:
    with pytest.raises(ProtocolError) as error:
        decode(hello(specs), AGENT_MESSAGES)
    assert error.value.detail.startswith(f"invalid agent_hello: {where}")


@pytest.mark.parametrize(
    ("message", "data"),
    [
        ("agent_hello", {"agent_version": "1\u0000", "os": "x"}),
        ("agent_hello", {"agent_version": "1", "os": "x" * 129}),
        ("agent_hello", {"agent_version": "1", "os": "x", "protocol_version": 10**30}),
        ("heartbeat", {"cpu": 1, "ram": 1, "remaining_seconds": 10**12}),
        ("heartbeat", {"cpu": 1, "ram": 1, "idle_seconds": 10**20}),
        ("tamper", {"kind": "overlay\u0000"}),
        ("tamper", {"kind": "<script>"}),
        ("tamper", {"kind": "x", "detail": "d" * 1001}),
        ("tamper", {"kind": "x", "count": 10**7}),
        ("goodbye", {"reason": "shutdown", "users": ["u"] * 17}),
        ("goodbye", {"reason": "shutdown", "by": "a\u0000"}),
        ("auth", {"token": "gat_\u0000"}),
    ],
)
def test_every_agent_field_is_bounded(message: str, data: dict[str, object]) -> None:
    with pytest.raises(ProtocolError) as error:
        decode(json.dumps({"type": message, "data": data}), AGENT_MESSAGES)
    assert error.value.detail.startswith(f"invalid {message}")
