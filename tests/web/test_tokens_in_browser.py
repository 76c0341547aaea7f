"""The dashboard's tokens (issue 11 §2): the live feed carries its token in the first message,
never in the URL (URLs end up in access logs and proxies); logging out ends the login."""

from __future__ import annotations

from playwright.async_api import WebSocket, expect

from tests.support.live_server import LiveServer
from tests.support.waiting import eventually
from tests.web.conftest import OpenPage


async def test_the_feed_socket_url_carries_no_token(open_page: OpenPage) -> None:
    page = await open_page()
    sockets: list[WebSocket] = []
    first_frames: list[str] = []

    def opened(socket: WebSocket) -> None:
        sockets.append(socket)
        socket.on(
            "framesent",
            lambda frame: first_frames.append(str(frame)) if not first_frames else None,
        )

    page.on("websocket", opened)
    await page.reload()
    await expect(page.locator("#feed-status")).to_have_text("Live")
    assert [socket.url.split("/", 3)[-1] for socket in sockets] == ["ws/dashboard"]
    assert first_frames and '"type":"auth"' in first_frames[0]


async def test_log_out_ends_the_login_on_the_server(
    open_page: OpenPage, live_server: LiveServer
) -> None:
    page = await open_page()
    stored = await page.evaluate("() => JSON.parse(localStorage.getItem('gameops.auth'))")
    await page.get_by_role("button", name="Log out").click()
    await page.wait_for_url(f"{live_server.base_url}/login")
    client = live_server.client()

    async def refreshed() -> int:
        body = {"refresh_token": stored["refresh"]}
        return (await client.post("/api/v1/auth/refresh", json=body)).status_code

    assert await eventually(refreshed, lambda status: status == 401) == 401
