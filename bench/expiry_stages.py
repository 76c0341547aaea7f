"""Where an expiry burst's lag went, read back from the database after the burst.

Per expired session: its scheduled end, when it was claimed (``sessions.actual_end_at``),
when its ``session_expired`` outbox row was written (``created_at``, inside the claiming
transaction) and marked sent by the relay (``sent_at``, after the bus took it), and when the
agent received it (the load generator's clock). Printed as p50/p90/p99/max of each step.
"""

from __future__ import annotations

import json
import statistics
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

STEPS = (
    ("end -> claimed", "end", "claimed"),
    ("claimed -> outbox row", "claimed", "staged"),
    ("outbox row -> marked sent", "staged", "sent"),
    ("claimed -> agent", "claimed", "received"),
    ("end -> agent (the lag)", "end", "received"),
)


def _utc(value: datetime | str) -> float:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


async def read_moments(
    database_url: str, received: dict[str, float]
) -> dict[str, dict[str, float]]:
    """Moments (epoch seconds) of each session the agents saw expire, by its id."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            expired = "SELECT id, scheduled_end_at, actual_end_at FROM sessions WHERE status = :s"
            sessions = await connection.execute(text(expired), {"s": "EXPIRED"})
            ends = {str(row[0]).replace("-", ""): (row[1], row[2]) for row in sessions}
            rows = await connection.execute(
                text("SELECT created_at, sent_at, payload FROM outbox WHERE channel = 'agent'")
            )
            outbox: dict[str, tuple[float, float | None]] = {}
            for created_at, sent_at, payload in rows:
                message = payload if isinstance(payload, dict) else json.loads(payload)
                if message.get("type") != "session_expired":
                    continue
                session_id = json.loads(message["frame"])["data"]["id"].replace("-", "")
                outbox[session_id] = (_utc(created_at), _utc(sent_at) if sent_at else None)
    finally:
        await engine.dispose()
    moments = {}
    for session_id, at in received.items():
        key = session_id.replace("-", "")
        if key not in ends or key not in outbox:
            continue
        end, claimed = ends[key]
        staged, sent = outbox[key]
        moment = {"end": _utc(end), "claimed": _utc(claimed), "staged": staged, "received": at}
        if sent is not None:
            moment["sent"] = sent
        moments[session_id] = moment
    return moments


def _quantiles(samples: list[float]) -> str:
    if len(samples) < 2:
        return "-"
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return f"p50 {cuts[49]:.0f} | p90 {cuts[89]:.0f} | p99 {cuts[98]:.0f} | max {max(samples):.0f}"


def report(moments: dict[str, dict[str, float]]) -> list[str]:
    lines = [f"expiry stages over {len(moments)} sessions (ms):"]
    for name, start, stop in STEPS:
        samples = [
            (m[stop] - m[start]) * 1000 for m in moments.values() if start in m and stop in m
        ]
        lines.append(f"  {name:28} {_quantiles(samples)}")
    return lines
