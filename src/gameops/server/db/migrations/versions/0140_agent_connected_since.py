"""When the station's current agent connection was accepted: a handshake that finishes
after a newer connection's (slow under load) must not take the station back.

Revision ID: 0140
Revises: 0120
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0140"
down_revision: str | None = "0120"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stations") as batch:
        batch.add_column(
            sa.Column("agent_connected_since", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("stations") as batch:
        batch.drop_column("agent_connected_since")
