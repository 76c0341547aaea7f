"""The till's shifts: opened with a counted float, closed with a count; payments belong to one.

Revision ID: 0080
Revises: 0040
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0080"
down_revision: str | None = "0040"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shifts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("OPEN", "CLOSED", name="shiftstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_by", sa.Uuid(), nullable=False),
        sa.Column("opening_float", sa.Integer(), nullable=False),
        sa.Column("opening_count", sa.JSON(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.Uuid(), nullable=True),
        sa.Column("closing_count", sa.JSON(), nullable=True),
        sa.Column("counted_cash", sa.Integer(), nullable=True),
        sa.Column("expected_cash", sa.Integer(), nullable=True),
        sa.Column("variance", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.CheckConstraint("opening_float >= 0", name=op.f("ck_shifts_float_not_negative")),
        sa.ForeignKeyConstraint(
            ["closed_by"], ["users.id"], name=op.f("fk_shifts_closed_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["opened_by"], ["users.id"], name=op.f("fk_shifts_opened_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shifts")),
    )
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.create_index(
            "uq_shifts_one_open",
            ["status"],
            unique=True,
            sqlite_where=sa.text("status = 'OPEN'"),
            postgresql_where=sa.text("status = 'OPEN'"),
        )

    op.create_table(
        "shift_corrections",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("shift_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_shift_corrections_amount_not_zero")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_shift_corrections_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["shift_id"], ["shifts.id"], name=op.f("fk_shift_corrections_shift_id_shifts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shift_corrections")),
    )
    with op.batch_alter_table("shift_corrections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_shift_corrections_shift_id"), ["shift_id"], unique=False
        )

    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shift_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_payments_shift_id"), ["shift_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_payments_shift_id_shifts"), "shifts", ["shift_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_payments_shift_id_shifts"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_payments_shift_id"))
        batch_op.drop_column("shift_id")

    with op.batch_alter_table("shift_corrections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shift_corrections_shift_id"))

    op.drop_table("shift_corrections")
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_shifts_one_open",
            sqlite_where=sa.text("status = 'OPEN'"),
            postgresql_where=sa.text("status = 'OPEN'"),
        )

    op.drop_table("shifts")
