"""The migrations are the schema: they match the models and go down and up cleanly."""

from __future__ import annotations

from alembic import command

from gameops.server.db.migrate import alembic_config, upgrade


def test_models_match_migrations(database_url: str) -> None:
    # Raises if autogenerate would find anything the migrations do not create.
    command.check(alembic_config(database_url))


def test_downgrade_to_nothing_and_back(database_url: str) -> None:
    command.downgrade(alembic_config(database_url), "base")
    upgrade(database_url)
    command.check(alembic_config(database_url))


def test_one_head() -> None:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"branches to merge: {heads}"
