"""Receipts, numbered from one counter row (no gaps, no repeats).

Revision ID: 0081
Revises: 0080
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0081"
down_revision: str | None = "0080"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    counters = op.create_table(
        "receipt_counters",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipt_counters")),
    )
    # The venue's one series: the first receipt is number 1.
    op.bulk_insert(counters, [{"id": 1, "last_number": 0}])
    op.create_table(
        "receipts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "SALE",
                "EXTENSION",
                "TOPUP",
                "REFUND",
                "SHOP",
                name="receiptkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column(
            "method",
            sa.Enum("CASH", "BALANCE", "CARD", name="paymentmethod", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("taxes", sa.JSON(), nullable=False),
        sa.Column("customer", sa.String(length=255), nullable=True),
        sa.Column("operator", sa.String(length=255), nullable=True),
        sa.Column("issued_by", sa.Uuid(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["issued_by"], ["users.id"], name=op.f("fk_receipts_issued_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_receipts_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_receipts_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipts")),
        sa.UniqueConstraint("number", name=op.f("uq_receipts_number")),
        sa.UniqueConstraint("payment_id", name=op.f("uq_receipts_payment_id")),
    )
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_receipts_issued_at"), ["issued_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_receipts_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_receipts_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_receipts_user_id"))
        batch_op.drop_index(batch_op.f("ix_receipts_session_id"))
        batch_op.drop_index(batch_op.f("ix_receipts_issued_at"))

    op.drop_table("receipts")
    op.drop_table("receipt_counters")
