"""Consoles: station controller config (plug, router, encrypted passwords), the plug's last
reading, and power samples.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-23 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("controller", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("controller_secret", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("power_watts", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("relay_on", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("power_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "power_samples",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("station_id", sa.Uuid(), nullable=False),
        sa.Column("sampled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("watts", sa.Float(), nullable=True),
        sa.Column("relay_on", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
            name=op.f("fk_power_samples_station_id_stations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_power_samples")),
    )
    with op.batch_alter_table("power_samples", schema=None) as batch_op:
        batch_op.create_index(
            "ix_power_samples_station_time", ["station_id", "sampled_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_power_samples_sampled_at"), ["sampled_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("power_samples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_power_samples_sampled_at"))
        batch_op.drop_index("ix_power_samples_station_time")
    op.drop_table("power_samples")
    with op.batch_alter_table("stations", schema=None) as batch_op:
        batch_op.drop_column("power_at")
        batch_op.drop_column("relay_on")
        batch_op.drop_column("power_watts")
        batch_op.drop_column("controller_secret")
        batch_op.drop_column("controller")
