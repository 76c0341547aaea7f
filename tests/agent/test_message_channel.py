"""A staff message on the local channel: a restarted overlay shows again the messages the
customer has not clicked "Got it" on, and a click is passed on once."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from gameops.agent.channel import MAX_UNSEEN, DesktopChannel
from gameops.agent.localwire import encode_line
from tests.agent.harness import wait_until


async def overlay(channel: DesktopChannel) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", channel.port)
    writer.write(encode_line({"op": "hello", "secret": channel.secret, "pid": 1}))
    await writer.drain()
    await wait_until(lambda: channel.connected)
    return reader, writer


async def read_messages(reader: asyncio.StreamReader, count: int) -> list[dict[str, Any]]:
    lines = [await asyncio.wait_for(reader.readline(), 5) for _ in range(count)]
    return [json.loads(line) for line in lines]


async def test_unseen_messages_are_shown_again_and_a_click_passed_on_once() -> None:
    channel = DesktopChannel()
    await channel.start()
    seen: list[str] = []
    channel.on_seen = seen.append
    channel.push({"op": "view", "mode": "locked", "message": ""})
    channel.push({"op": "message", "id": "m1", "text": "Hello", "by": "ana"})  # nobody there
    channel.push({"op": "message", "id": "m2", "text": "Bye", "by": None})

    reader, writer = await overlay(channel)  # the overlay (re)starts
    shown = await read_messages(reader, 3)
    assert [m["op"] for m in shown] == ["view", "message", "message"]
    assert [m["id"] for m in shown[1:]] == ["m1", "m2"]

    for _ in range(2):  # a double click, say: passed on once
        writer.write(encode_line({"op": "seen", "id": "m1"}))
    writer.write(encode_line({"op": "seen", "id": "not-a-message"}))
    await writer.drain()
    await wait_until(lambda: seen == ["m1"])
    writer.close()
    await wait_until(lambda: not channel.connected)

    reader, writer = await overlay(channel)
    again = await read_messages(reader, 2)
    assert [m.get("id") for m in again] == [None, "m2"]  # the view, and only m2
    writer.close()
    await channel.close()
    assert seen == ["m1"]


async def test_at_most_so_many_unseen_messages_are_kept() -> None:
    channel = DesktopChannel()
    for n in range(MAX_UNSEEN + 5):
        channel.push({"op": "message", "id": f"m{n}", "text": "x"})
    kept = [m["id"] for m in channel._state()]
    assert kept == [f"m{n}" for n in range(5, MAX_UNSEEN + 5)]
