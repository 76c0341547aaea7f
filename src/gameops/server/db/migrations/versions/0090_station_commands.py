"""Staff commands to stations (message, lock, restart, wake...): audit trail and queue.

Revision ID: 0090
Revises: 0025
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0090"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("MESSAGE", "LOCK", "LOGOFF", "RESTART", "SHUTDOWN", "WAKE", "CLEAR_TAMPER")
STATUSES = ("QUEUED", "SENT", "DONE", "FAILED")
EFFECTS = ("KEPT", "ENDED")


def _enum(values: tuple[str, ...], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=32)


def upgrade() -> None:
    moment = sa.DateTime(timezone=True)
    op.create_table(
        "station_commands",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("station_id", sa.Uuid(), nullable=False),
        sa.Column("kind", _enum(KINDS, "commandkind"), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("status", _enum(STATUSES, "commandstatus"), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=False),
        sa.Column("via_station_id", sa.Uuid(), nullable=True),
        sa.Column("session_id", sa.Uuid(), nullable=True),
        sa.Column("session_effect", _enum(EFFECTS, "sessioneffect"), nullable=True),
        sa.Column("sent_at", moment, nullable=True),
        sa.Column("done_at", moment, nullable=True),
        sa.Column("ok", sa.Boolean(), nullable=True),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.Column("seen_at", moment, nullable=True),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_station_commands_station_id_stations")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name=op.f("fk_station_commands_requested_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["via_station_id"],
            ["stations.id"],
            name=op.f("fk_station_commands_via_station_id_stations"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_station_commands_session_id_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station_commands")),
    )
    with op.batch_alter_table("station_commands", schema=None) as batch_op:
        batch_op.create_index(
            "ix_station_commands_station_created", ["station_id", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_station_commands_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("station_commands", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_station_commands_status"))
        batch_op.drop_index("ix_station_commands_station_created")
    op.drop_table("station_commands")
