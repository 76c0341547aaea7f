"""Tamper lock (fail-closed until staff clear it) and the agent's goodbye on stations.

Revision ID: 0030
Revises: 0010
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    moment = sa.DateTime(timezone=True)
    with op.batch_alter_table("stations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tamper_locked_at", moment, nullable=True))
        batch_op.add_column(sa.Column("tamper_lock", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("agent_stopped_at", moment, nullable=True))
        batch_op.add_column(sa.Column("agent_stop", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stations", schema=None) as batch_op:
        batch_op.drop_column("agent_stop")
        batch_op.drop_column("agent_stopped_at")
        batch_op.drop_column("tamper_lock")
        batch_op.drop_column("tamper_locked_at")
