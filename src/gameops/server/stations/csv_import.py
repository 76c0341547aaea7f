"""``gameops stations import``: a venue's stations from a CSV file, through the server's
``POST /api/v1/stations/import`` (so each is audited as the admin's, as when created in
the dashboard), in chunks, with a progress bar.

All or nothing: every chunk is checked first (``dry_run``), and stations are created only
if no row of the file is refused; then each PC's agent token is written to a file of its
own (they are shown once). The file's columns: ``name,type,hourly_rate[,zone]``; ``type``
is PC or CONSOLE, ``hourly_rate`` in minor units (cents) per hour.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from gameops.server.stations.schemas import IMPORT_ROWS_LIMIT

REQUIRED = ("name", "type", "hourly_rate")
ENDPOINT = "/api/v1/stations/import"


@dataclass
class Imported:
    """What was created: ``(id, name, type, token or None)`` per station, in file order."""

    stations: list[tuple[str, str, str, str | None]] = field(default_factory=list)


class ImportRefused(Exception):
    """The file, or rows of it, cannot be imported. ``imported`` is what was created
    before (only if a chunk was refused after the check passed: a name taken meanwhile)."""

    def __init__(self, problems: list[str], imported: Imported | None = None) -> None:
        super().__init__("; ".join(problems[:5]))
        self.problems = problems
        self.imported = imported or Imported()


def read_rows(text: str) -> list[dict[str, Any]]:
    """The stations a CSV file describes; its own mistakes (a missing column, a rate that
    is not a whole number) refused with their line numbers."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportRefused([f"the header has no column {', '.join(missing)}"])
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    for line, record in enumerate(reader, start=2):
        row: dict[str, Any] = {
            "name": (record.get("name") or "").strip(),
            "type": (record.get("type") or "").strip().upper(),
        }
        if zone := (record.get("zone") or "").strip():
            row["zone"] = zone
        try:
            row["hourly_rate"] = int((record.get("hourly_rate") or "").strip())
        except ValueError:
            problems.append(f"line {line}: hourly_rate must be a whole number of cents")
        rows.append(row)
    if problems:
        raise ImportRefused(problems)
    if not rows:
        raise ImportRefused(["the file has no rows"])
    return rows


def _chunks(rows: list[dict[str, Any]], size: int) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    for start in range(0, len(rows), size):
        yield start, rows[start : start + size]


async def import_rows(
    client: httpx.AsyncClient,
    rows: list[dict[str, Any]],
    *,
    agent_tokens: bool,
    chunk: int = IMPORT_ROWS_LIMIT,
    progress: Callable[[str, int], None] = lambda phase, done: None,
) -> Imported:
    """Checks every chunk, then creates them (``client`` is logged in as an admin).
    ``progress(phase, rows done)`` is told as chunks finish ("checking", "importing")."""
    _refuse_repeated_names(rows)
    for phase, dry_run in (("checking", True), ("importing", False)):
        imported = Imported()
        for start, part in _chunks(rows, chunk):
            body = {"stations": part, "agent_tokens": agent_tokens, "dry_run": dry_run}
            answer = await client.post(ENDPOINT, json=body)
            if answer.status_code != 201:
                raise ImportRefused(_problems(answer, start), None if dry_run else imported)
            for station in answer.json()["stations"]:
                entry = (station["id"], station["name"], station["type"], station["agent_token"])
                imported.stations.append(entry)
            progress(phase, start + len(part))
    return imported


def _refuse_repeated_names(rows: list[dict[str, Any]]) -> None:
    """A name twice in the file (in different chunks the server would not see it)."""
    first: dict[str, int] = {}
    problems = [
        f"line {index + 2}: same name as line {first[row['name']] + 2} ({row['name']!r})"
        for index, row in enumerate(rows)
        if first.setdefault(row["name"], index) != index
    ]
    if problems:
        raise ImportRefused(problems)


def _problems(answer: httpx.Response, start: int) -> list[str]:
    """The server's refusal, row by row, as lines of the file (header is line 1)."""
    try:
        body = answer.json()
    except ValueError:
        return [f"the server answered {answer.status_code}: {answer.text[:200]}"]
    if rows := body.get("rows"):  # 409: names taken, or rows that cannot be built
        return [f"line {start + r['row'] + 2}: {r['name']!r}: {r['error']}" for r in rows]
    problems = []
    for error in body.get("errors") or []:  # 422: a field of a row
        where = error.get("loc") or []
        if len(where) >= 3 and where[:2] == ["body", "stations"] and isinstance(where[2], int):
            field_name = ".".join(str(part) for part in where[3:]) or "row"
            problems.append(f"line {start + where[2] + 2}: {field_name}: {error.get('msg')}")
    return problems or [f"the server answered {answer.status_code}: {body.get('detail')}"]


def write_tokens(path: Path, imported: Imported) -> int:
    """The PCs' agent tokens, ``station_id,name,token``, readable by the owner only."""
    lines = [(sid, name, token) for sid, name, _, token in imported.stations if token]
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["station_id", "name", "token"])
        writer.writerows(lines)
    return len(lines)


def csv_of(rows: Iterable[dict[str, Any]]) -> str:
    """Rows as an import file (what ``read_rows`` reads back)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*REQUIRED, "zone"], extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def run(
    file: Path, server: str, username: str, password: str, tokens_out: Path | None, console: Any
) -> int:
    """The CLI command: 0 when every row was imported, 1 otherwise (nothing was, unless it
    says how many)."""
    import asyncio

    from rich.progress import Progress

    try:
        rows = read_rows(file.read_text(encoding="utf-8-sig"))
    except (OSError, ImportRefused) as err:
        return _refused(console, err)
    with Progress(console=console) as bars:
        tasks = {phase: bars.add_task(phase, total=len(rows)) for phase in PHASES}
        try:
            imported = asyncio.run(
                _import(server, username, password, rows, tokens_out is not None,
                        lambda phase, done: bars.update(tasks[phase], completed=done))
            )  # fmt: skip
        except ImportRefused as refused:
            if refused.imported.stations and tokens_out is not None:
                write_tokens(tokens_out, refused.imported)
            return _refused(console, refused)
    console.print(f"[green]{len(imported.stations)} stations imported[/]")
    if tokens_out is not None:
        count = write_tokens(tokens_out, imported)
        console.print(f"{count} agent tokens written to {tokens_out} (shown only there)")
    return 0


PHASES = ("checking", "importing")


async def _import(
    server: str,
    username: str,
    password: str,
    rows: list[dict[str, Any]],
    agent_tokens: bool,
    progress: Callable[[str, int], None],
) -> Imported:
    async with httpx.AsyncClient(base_url=server.rstrip("/"), timeout=120) as client:
        try:
            credentials = {"username": username, "password": password}
            login = await client.post("/api/v1/auth/login", json=credentials)
            if login.status_code != 200:
                raise ImportRefused([f"login refused: {login.json().get('detail')}"])
            client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
            return await import_rows(client, rows, agent_tokens=agent_tokens, progress=progress)
        except httpx.HTTPError as err:
            raise ImportRefused([f"cannot reach {server}: {err!r}"]) from err


def _refused(console: Any, err: Exception) -> int:
    problems = err.problems if isinstance(err, ImportRefused) else [str(err)]
    for problem in problems[:50]:
        console.print(f"[red]{problem}[/]")
    if len(problems) > 50:
        console.print(f"[red]... and {len(problems) - 50} more[/]")
    if isinstance(err, ImportRefused) and err.imported.stations:
        console.print(f"[yellow]{len(err.imported.stations)} stations were created before[/]")
    else:
        console.print("[red]nothing was imported[/]")
    return 1
