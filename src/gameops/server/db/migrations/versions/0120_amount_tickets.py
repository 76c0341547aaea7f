"""Guest tickets for an amount (money spent at the station's rate), not only for minutes.

Revision ID: 0120
Revises: 0100
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0120"
down_revision: str | None = "0100"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("guest_tickets") as batch:
        batch.add_column(sa.Column("amount_total", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("amount_left", sa.BigInteger(), nullable=True))
        batch.create_check_constraint(
            "amount_left_within_total",
            "(amount_total IS NULL AND amount_left IS NULL) OR "
            "(amount_left >= 0 AND amount_left <= amount_total)",
        )


def downgrade() -> None:
    with op.batch_alter_table("guest_tickets") as batch:
        batch.drop_constraint("amount_left_within_total", type_="check")
        batch.drop_column("amount_left")
        batch.drop_column("amount_total")
