"""Money: customer fields and balance, the ledger, rate plans, card payment columns,
idempotency records.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 05:44:39.346658
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_records",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_idempotency_records")),
    )
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idempotency_records_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "rate_plans",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("member_hourly_rate", sa.Integer(), nullable=False),
        sa.Column("guest_hourly_rate", sa.Integer(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("packages", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "guest_hourly_rate >= 0", name=op.f("ck_rate_plans_guest_rate_not_negative")
        ),
        sa.CheckConstraint(
            "member_hourly_rate >= 0", name=op.f("ck_rate_plans_member_rate_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_plans")),
        sa.UniqueConstraint("zone", name=op.f("uq_rate_plans_zone")),
    )
    op.create_table(
        "ledger_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "TOPUP",
                "DEBIT",
                "REFUND",
                "ADJUSTMENT",
                name="ledgerkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=True),
        sa.Column("session_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_ledger_entries_amount_not_zero")),
        sa.CheckConstraint(
            "balance_after >= 0", name=op.f("ck_ledger_entries_balance_after_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_ledger_entries_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_ledger_entries_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_ledger_entries_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_entries_payment_id"), ["payment_id"], unique=False
        )
        batch_op.create_index("ix_ledger_entries_user_id_id", ["user_id", "id"], unique=False)

    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("gateway_intent_id", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("failure_reason", sa.String(length=255), nullable=True))
        batch_op.create_index(
            "ix_payments_status_created_at", ["status", "created_at"], unique=False
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_payments_gateway_intent_id"), ["gateway_intent_id"]
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(
            sa.Column("is_member", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("balance", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.create_check_constraint(op.f("ck_users_balance_not_negative"), "balance >= 0")


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_balance_not_negative"), type_="check")
        batch_op.drop_column("balance")
        batch_op.drop_column("is_member")
        batch_op.drop_column("email")
        batch_op.drop_column("phone")

    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_payments_gateway_intent_id"), type_="unique")
        batch_op.drop_index("ix_payments_status_created_at")
        batch_op.drop_column("failure_reason")
        batch_op.drop_column("gateway_intent_id")

    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_entries_user_id_id")
        batch_op.drop_index(batch_op.f("ix_ledger_entries_payment_id"))

    op.drop_table("ledger_entries")
    op.drop_table("rate_plans")
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_records_created_at"))

    op.drop_table("idempotency_records")
