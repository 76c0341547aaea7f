"""``gameops demo`` cleans up after itself: the temporary data directory it made is gone
once it stops (Ctrl+C or SIGTERM); a ``--data-dir`` it was given is kept."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from gameops.sim.demo import DemoError, demo_data_dir
from tests.support.cli_process import kill_if_running, read_until, spawn_cli
from tests.support.stripe import free_port


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
async def test_the_temporary_data_directory_is_removed_on_exit(
    tmp_path: Path, signum: signal.Signals
) -> None:
    process = await spawn_cli("demo", "--port", str(free_port()), env={"TMPDIR": str(tmp_path)})
    try:
        line = await read_until(process, "Ctrl+C to stop", 60)
        made = Path(line.split("data: ")[1].split(" (removed on exit)")[0])
        assert made.parent == tmp_path
        assert "gameops.db" in await asyncio.to_thread(_files, made)  # the venue lives there
        process.send_signal(signum)
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        await kill_if_running(process)
    assert await asyncio.to_thread(_files, tmp_path) == []


def _files(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def test_a_given_data_dir_is_kept_and_must_start_empty(tmp_path: Path) -> None:
    given = tmp_path / "venue"
    with demo_data_dir(given) as directory:
        assert directory == given
        (directory / "gameops.db").write_text("data")
    assert (given / "gameops.db").read_text() == "data"
    with pytest.raises(DemoError, match="is not empty"), demo_data_dir(given):
        pass


def test_the_temporary_directory_goes_even_when_the_demo_fails() -> None:
    with pytest.raises(DemoError), demo_data_dir(None) as directory:
        (directory / "gameops.db").write_text("data")
        raise DemoError("the port is taken")
    assert not directory.exists()
