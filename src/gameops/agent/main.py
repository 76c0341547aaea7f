"""Entry points: ``gameops agent --config PATH`` (via :func:`run`) and ``gameops-agent``.

``asyncio`` and the runtime are imported only once the config is read: a station that
connects without TLS then never loads ``ssl`` (:func:`~gameops.agent.lean.leave_out_tls`).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from . import logs
from .config import AgentConfig, ConfigError, load_config
from .lean import leave_out_tls

if TYPE_CHECKING:
    from .runtime import AgentParts

EXIT_CONFIG_ERROR = 2


def run(config_path: Path) -> int:
    """Load the config, run the agent until SIGINT/SIGTERM; returns the exit code."""
    prepared = prepare(config_path)
    if isinstance(prepared, int):
        return prepared
    import asyncio

    return asyncio.run(_serve(*prepared))


def prepare(config_path: Path) -> tuple[AgentConfig, AgentParts] | int:
    """The config and the parts the agent runs with, logging set up; or the exit code of a
    configuration error (said on stderr). Shared with the Windows service host."""
    try:
        config = load_config(config_path, os.environ)
    except ConfigError as err:
        print(f"gameops-agent: {err}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    if not config.uses_tls:
        leave_out_tls()
    from .control import select_control
    from .runtime import AgentParts, state_file_for

    logs.configure(config.log.level, config.log.format, config.log.file)
    log = logs.get_logger(__name__)
    log.info(
        "agent_starting", station=config.station.name, url=config.ws_url, config=str(config_path)
    )
    if config.system_actions_opt_in and not (config.system_lock and config.system_logoff):
        log.warning(
            "agent_system_lock_off",
            system_lock=config.system_lock,
            log_off=config.system_logoff,
            why="control linux outside a service: this desktop is not locked or logged off",
            fix="on a venue PC set features.auto_lock and features.auto_logout to true",
        )
    control = select_control(config.system.control, in_service=config.system.service)
    return config, AgentParts(control=control, state=state_file_for(config, config_path))


async def _serve(config: AgentConfig, parts: AgentParts) -> int:
    import asyncio
    import signal

    from .runtime import Agent

    agent = Agent(config, parts)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, agent.stop)
        except (NotImplementedError, RuntimeError):  # Windows: no loop signal handlers
            signal.signal(signum, lambda *_: loop.call_soon_threadsafe(agent.stop))
    return await agent.run()


def console_main() -> None:
    parser = argparse.ArgumentParser(prog="gameops-agent", description="GameOps PC agent.")
    parser.add_argument(
        "--config", "-c", type=Path, default=Path("config.yaml"), help="agent YAML config"
    )
    args = parser.parse_args()
    sys.exit(run(args.config))
