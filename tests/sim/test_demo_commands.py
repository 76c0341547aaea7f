"""In ``gameops demo`` staff can wake the PC left switched off: a simulated agent on its
(loopback) subnet relays the magic packet."""

from __future__ import annotations

from pathlib import Path

import httpx

from gameops.sim.demo import ADMIN_PASSWORD, ADMIN_USERNAME, NO_AGENT, Demo
from tests.support.stripe import free_port
from tests.support.waiting import eventually


async def test_the_switched_off_demo_pc_can_be_woken(tmp_path: Path) -> None:
    venue = Demo(tmp_path / "demo", port=free_port())
    await venue.start()
    try:
        async with httpx.AsyncClient(base_url=f"{venue.url}/api/v1", timeout=30) as client:
            credentials = {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
            token = (await client.post("/auth/login", json=credentials)).json()["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            stations = (await client.get("/stations", params={"per_page": 100})).json()["items"]
            [off] = [s for s in stations if s["name"] == NO_AGENT]
            woken = await eventually(
                lambda: client.post(f"/stations/{off['id']}/commands", json={"kind": "wake"}),
                lambda r: r.status_code == 201,
                timeout=15,
            )
            assert woken.json()["via_station_id"] is not None
            done = await eventually(
                lambda: client.get(f"/commands/{woken.json()['id']}"),
                lambda r: r.json()["status"] == "DONE",
            )
            assert "127.255.255.255" in done.json()["detail"]
    finally:
        await venue.stop()
