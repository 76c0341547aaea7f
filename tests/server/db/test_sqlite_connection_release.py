"""A SQLite connection dropped mid-transaction lets go of the write lock at once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import text

from gameops.server.db.engine import create_engine


async def test_a_connection_dropped_with_a_query_unfinished_releases_the_write_lock(
    tmp_path: Path,
) -> None:
    path = tmp_path / "venue.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE seats (n INTEGER)"))
            await conn.execute(text("INSERT INTO seats VALUES (1), (2), (3)"))
        async with engine.connect() as conn:
            # BEGIN IMMEDIATE holds the write lock; the query's rows are not read yet. A
            # task cancelled right here has its connection invalidated, not rolled back.
            unfinished = await conn.stream(text("SELECT n FROM seats"))
            await conn.invalidate()

            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")  # "database is locked" if it were still held
                other.execute("INSERT INTO seats VALUES (4)")
                other.execute("COMMIT")
            finally:
                other.close()
            del unfinished
    finally:
        await engine.dispose()
