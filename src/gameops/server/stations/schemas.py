from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, StrictInt

from gameops.server.schemas import PartialUpdate, Schema
from gameops.server.stations.domain import StationStatus, StationType

StationName = Annotated[str, Field(min_length=1, max_length=64)]
HourlyRate = Annotated[
    StrictInt, Field(ge=0, le=100_000_000, description="price per hour in minor units (cents)")
]
Zone = Annotated[str, Field(max_length=64)]
# Facts about the PC, as an agent reports them (gameops.protocol.messages.Specs): at most two
# levels deep, 64 keys. Deeper JSON could not even be written back out (a 500).
SpecKey = Annotated[str, Field(min_length=1, max_length=64)]
SpecScalar = Annotated[str, Field(max_length=256)] | StrictInt | float | bool | None
SpecValue = (
    SpecScalar
    | Annotated[list[SpecScalar], Field(max_length=32)]
    | Annotated[dict[SpecKey, SpecScalar], Field(max_length=32)]
)
Specs = Annotated[dict[SpecKey, SpecValue], Field(max_length=64)]
Host = Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.:\-\[\]]+$")]
Port = Annotated[StrictInt, Field(ge=1, le=65535)]
Mac = Annotated[
    str, Field(pattern=r"^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$", description="console MAC")
]


class ShellyPublic(BaseModel):
    host: Host
    port: Port = 80
    generation: Literal[1, 2, 3, 4] = Field(default=1, description="1: HTTP API; 2+: RPC")
    username: str | None = Field(default=None, max_length=64, description="Gen1 only")


class ShellyConfig(ShellyPublic):
    password: SecretStr | None = Field(default=None, description="write-only; kept if left out")


class MikroTikPublic(BaseModel):
    host: Host
    port: Port = Field(default=8729, description="8729 api-ssl (TLS); 8728 sends in clear")
    tls: bool = True
    tls_verify: bool = Field(default=True, description="check the router's certificate")
    username: str = Field(default="admin", max_length=64)
    console_mac: Mac
    console_ip: str | None = Field(
        default=None, max_length=64, description="unset: the router's DHCP lease for the MAC"
    )


class MikroTikConfig(MikroTikPublic):
    password: SecretStr | None = Field(default=None, description="write-only; kept if left out")


class ControllerConfig(BaseModel):
    """A console's enforcement: a plug (power), a router (network), or both."""

    shelly: ShellyConfig | None = None
    mikrotik: MikroTikConfig | None = None


class ControllerPublic(BaseModel):
    shelly: ShellyPublic | None = None
    mikrotik: MikroTikPublic | None = None


class StationCreate(BaseModel):
    name: StationName
    type: StationType
    hourly_rate: HourlyRate
    zone: Zone | None = None
    specs: Specs = Field(default_factory=dict)
    controller: ControllerConfig | None = None


class StationUpdate(PartialUpdate):
    NOT_NULL = ("name", "hourly_rate", "specs", "status")

    name: StationName | None = None
    hourly_rate: HourlyRate | None = None
    zone: Zone | None = None
    specs: Specs | None = None
    status: StationStatus | None = Field(
        default=None, description="only MAINTENANCE or ONLINE (back in service)"
    )
    controller: ControllerConfig | None = Field(
        default=None, description="replaces the console's devices; null removes them"
    )


class StationPublic(Schema):
    id: uuid.UUID
    name: str
    type: StationType
    zone: str | None
    hourly_rate: int
    status: StationStatus
    agent_connected: bool
    agent_version: str | None
    specs: dict[str, Any]
    metrics: dict[str, Any]
    last_seen_at: datetime | None
    controller: ControllerPublic | None = Field(default=None, description="never has passwords")
    power_watts: float | None = None
    relay_on: bool | None = None
    power_at: datetime | None = None
    tamper_locked_at: datetime | None = Field(
        default=None, description="set: fail-closed after tampering until staff clear it"
    )
    tamper_lock: dict[str, Any] | None = Field(default=None, description="kind and detail")
    agent_stopped_at: datetime | None = Field(
        default=None, description="the agent said goodbye (a clean stop) and is not back"
    )
    agent_stop: dict[str, Any] | None = Field(
        default=None, description="reason, by, users, idle_seconds, in_use, session_id"
    )
    created_at: datetime
    updated_at: datetime


IMPORT_ROWS_LIMIT = 1000


class StationImport(BaseModel):
    """Many stations at once (a venue's PCs from a spreadsheet): all of them or none."""

    stations: list[StationCreate] = Field(min_length=1, max_length=IMPORT_ROWS_LIMIT)
    agent_tokens: bool = Field(
        default=False, description="issue each PC station an agent token (shown once)"
    )
    dry_run: bool = Field(default=False, description="only check the rows; create nothing")


class ImportedStation(BaseModel):
    id: uuid.UUID | None = Field(description="none in a dry run")
    name: str
    type: StationType
    agent_token: str | None = Field(default=None, description="shown once; only its hash is kept")


class StationImportResult(BaseModel):
    created: int = Field(description="0 in a dry run")
    stations: list[ImportedStation]


class AgentTokenIssued(BaseModel):
    station_id: uuid.UUID
    token: str = Field(description="shown once; only its hash is stored")
    created_at: datetime


class PowerSamplePublic(Schema):
    sampled_at: datetime
    watts: float | None
    relay_on: bool
