"""The dashboard's live feed carries its token in the first message, never in the URL
(issue 11 §2: URLs end up in access logs and proxies)."""

from __future__ import annotations

from playwright.async_api import WebSocket, expect

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
