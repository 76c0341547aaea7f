"""The simulator's sentence codec and state, without sockets."""

from __future__ import annotations

import asyncio

import pytest
from librouteros.protocol import decode_length
from librouteros.protocol import encode_sentence as lib_encode_sentence

from gameops.sim.routeros import (
    CommandError,
    RouterState,
    encode_length,
    encode_sentence,
    execute,
    parse_duration,
    read_sentence,
)


@pytest.mark.parametrize("length", [0, 1, 0x7F, 0x80, 0x3FFF, 0x4000, 0x1FFFFF, 0x200000])
def test_lengths_agree_with_librouteros(length: int) -> None:
    assert decode_length(encode_length(length)) == length


async def test_reads_what_librouteros_writes() -> None:
    reader = asyncio.StreamReader()
    words = ["/login", "=name=admin", "=password=" + "x" * 200]
    reader.feed_data(lib_encode_sentence(*words, encoding="ASCII"))
    assert await read_sentence(reader) == words
    assert encode_sentence(words) == lib_encode_sentence(*words, encoding="ASCII")


def test_durations() -> None:
    assert parse_duration("90s") == 90
    assert parse_duration("1h2m3s") == 3723
    assert parse_duration("00:10:00") == 600
    assert parse_duration("15") == 15


def test_add_print_remove() -> None:
    state = RouterState()
    (done,) = execute(state, "/ip/firewall/address-list/add", {"list": "l", "address": "a"})
    row_id = done[1].removeprefix("=ret=")
    rows = execute(state, "/ip/firewall/address-list/print", {})
    assert f"=.id={row_id}" in rows[0] and "=list=l" in rows[0]
    execute(state, "/ip/firewall/address-list/remove", {".id": row_id})
    assert execute(state, "/ip/firewall/address-list/print", {}) == []
    with pytest.raises(CommandError):
        execute(state, "/ip/firewall/address-list/remove", {".id": row_id})
    with pytest.raises(CommandError):
        execute(state, "/system/nothing/print", {})


def test_entries_with_a_timeout_expire() -> None:
    state = RouterState()
    state.add("/ip/firewall/address-list", {"list": "l", "address": "a", "timeout": "0s"})
    assert state.rows("/ip/firewall/address-list") == []
