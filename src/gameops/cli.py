"""The ``gameops`` command. Each sub-command imports its part lazily, so the agent's
install (no server extra) can run ``gameops agent`` without the server's dependencies."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console

app = typer.Typer(help="GameOps: run a gaming venue.", no_args_is_help=True)
db_app = typer.Typer(help="Database chores.", no_args_is_help=True)
sim_app = typer.Typer(help="Simulators (agents, devices, payment gateway).", no_args_is_help=True)
tls_app = typer.Typer(help="Certificates for HTTPS and WSS.", no_args_is_help=True)
stations_app = typer.Typer(help="Stations in bulk.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(stations_app, name="stations")
app.add_typer(sim_app, name="sim")
app.add_typer(tls_app, name="tls")
console = Console(stderr=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    migrate: Annotated[bool, typer.Option(help="Apply database migrations first.")] = True,
) -> None:
    """Run the server."""
    from gameops.server.runner import serve as run_server

    run_server(host=host, port=port, migrate=migrate, console=console)


@tls_app.command("self-signed")
def tls_self_signed(
    hosts: Annotated[list[str], typer.Argument(help="Names or IPs stations connect to.")],
    directory: Annotated[Path, typer.Option("--dir", help="Where to write.")] = Path("data/tls"),
) -> None:
    """Make a certificate and key for HTTPS/WSS without a certificate authority."""
    from gameops.server.tls import write_self_signed

    cert, key = write_self_signed(directory, hosts)
    console.print(
        f"server: GAMEOPS_TLS_CERTFILE={cert} GAMEOPS_TLS_KEYFILE={key}\n"
        f"stations: copy {cert} and set backend.ca_file to it, backend.url to wss://{hosts[0]}:PORT"
    )


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from gameops.server.db.migrate import upgrade
    from gameops.server.settings import get_settings

    settings = get_settings()
    upgrade(settings.database_url, revision)
    console.print(f"[green]database at {settings.redacted_database_url} is at {revision}[/]")


@stations_app.command("import")
def stations_import(
    file: Annotated[Path, typer.Argument(help="CSV: name,type,hourly_rate[,zone]")],
    server: Annotated[str, typer.Option(help="Server base URL.")] = "http://127.0.0.1:8000",
    username: Annotated[str, typer.Option(help="An admin.")] = "admin",
    password: Annotated[
        str, typer.Option(envvar="GAMEOPS_ADMIN_PASSWORD", prompt=True, hide_input=True)
    ] = "",
    tokens_out: Annotated[
        Path | None,
        typer.Option(help="Issue each PC an agent token and write them to this file."),
    ] = None,
) -> None:
    """Create many stations from a CSV file, all or none (each audited as yours)."""
    from gameops.server.stations.csv_import import run as run_import

    raise typer.Exit(run_import(file, server, username, password, tokens_out, console))


@app.command()
def agent(
    config: Annotated[Path, typer.Option("--config", "-c", help="Agent YAML config.")] = Path(
        "config.yaml"
    ),
) -> None:
    """Run the PC agent on this station."""
    from gameops.agent.main import run as run_agent

    raise typer.Exit(run_agent(config))


@sim_app.command("agents")
def sim_agents(
    count: Annotated[int, typer.Option("--count", "-n", help="How many agents.")] = 10,
    server: Annotated[str, typer.Option(help="Server base URL.")] = "http://127.0.0.1:8000",
    username: Annotated[str, typer.Option(help="Admin user that provisions stations.")] = "admin",
    password: Annotated[
        str, typer.Option(envvar="GAMEOPS_ADMIN_PASSWORD", prompt=True, hide_input=True)
    ] = "",
    duration: Annotated[
        float | None, typer.Option(help="Seconds to run; default until Ctrl+C.")
    ] = None,
) -> None:
    """Run N simulated PC agents (stations SIM-0001...) in one process."""
    from gameops.sim.fleet import run as run_fleet

    raise typer.Exit(
        run_fleet(count, server, username, password, duration=duration, console=console)
    )


@sim_app.command("shelly")
def sim_shelly(
    gen: Annotated[int, typer.Option("--gen", min=1, max=4, help="1: HTTP API; 2+: RPC.")] = 1,
    port: Annotated[int, typer.Option(help="Loopback port.")] = 8081,
    username: Annotated[str | None, typer.Option(help="Gen1 basic-auth user.")] = None,
    password: Annotated[str | None, typer.Option(help="Device password (enables auth).")] = None,
    fault: Annotated[str, typer.Option(help="none, timeout (never answers) or error.")] = "none",
) -> None:
    """Run a simulated Shelly plug on 127.0.0.1 (relay, power draw, auto-off timers)."""
    import asyncio
    import contextlib

    from gameops.sim.shelly import serve

    if gen == 1 and password and not username:
        username = "admin"
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(gen, port, username, password, _fault(fault)))


@sim_app.command("routeros")
def sim_routeros(
    port: Annotated[int, typer.Option(help="Loopback port (real: 8728, api-ssl 8729).")] = 8728,
    username: Annotated[str, typer.Option(help="API user.")] = "admin",
    password: Annotated[str, typer.Option(help="API password.")] = "",
    fault: Annotated[str, typer.Option(help="none, timeout (never answers) or error.")] = "none",
) -> None:
    """Run a simulated MikroTik RouterOS API on 127.0.0.1 (firewall rules, address lists)."""
    import asyncio
    import contextlib

    from gameops.sim.routeros import serve

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(port, username, password, _fault(fault)))


def _fault(name: str) -> Literal["none", "timeout", "error"]:
    faults: dict[str, Literal["none", "timeout", "error"]] = {
        "none": "none",
        "timeout": "timeout",
        "error": "error",
    }
    if name not in faults:
        raise typer.BadParameter("fault is none, timeout or error", param_hint="--fault")
    return faults[name]


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    data_dir: Annotated[
        Path | None, typer.Option(help="An empty directory for its data (default: a temp dir).")
    ] = None,
) -> None:
    """A living sample venue in one command: server, dashboard, simulated PCs and consoles."""
    from gameops.sim.demo import run as run_demo

    raise typer.Exit(run_demo(host, port, data_dir, console=console))


@sim_app.command("stripe")
def sim_stripe(
    port: Annotated[int, typer.Option(help="TCP port.")] = 12111,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    api_key: Annotated[str, typer.Option(help="Secret key clients must send.")] = (
        "sk_test_gameops_emulator"
    ),
    webhook_secret: Annotated[str, typer.Option(help="Signs the webhooks.")] = (
        "whsec_gameops_emulator"
    ),
    webhook_url: Annotated[
        str | None, typer.Option(help="Where to send webhooks, e.g. the server's endpoint.")
    ] = None,
) -> None:
    """Run a Stripe emulator (PaymentIntents, idempotency, signed webhooks) for demos."""
    from gameops.sim.stripe import run as run_stripe

    run_stripe(host, port, api_key, webhook_secret, webhook_url)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
