"""Self-service play at the PC: guest tickets, logged-in sessions billed in blocks, member
card numbers.

Revision ID: 0070
Revises: 0083
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0070"
down_revision: str | None = "0083"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "guest_tickets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("hint", sa.String(length=8), nullable=False),
        sa.Column("seconds_total", sa.Integer(), nullable=False),
        sa.Column("seconds_left", sa.Integer(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voided_by", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("payment_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("price >= 0", name=op.f("ck_guest_tickets_price_not_negative")),
        sa.CheckConstraint(
            "seconds_left <= seconds_total", name=op.f("ck_guest_tickets_seconds_left_within_total")
        ),
        sa.CheckConstraint(
            "seconds_left >= 0", name=op.f("ck_guest_tickets_seconds_left_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_guest_tickets_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_guest_tickets_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["voided_by"], ["users.id"], name=op.f("fk_guest_tickets_voided_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guest_tickets")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_guest_tickets_code_hash")),
    )
    op.create_table(
        "play_sessions",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("station_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("ticket_id", sa.Uuid(), nullable=True),
        sa.Column("hourly_rate", sa.BigInteger(), nullable=False),
        sa.Column("block_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("block_ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("block_charge", sa.BigInteger(), nullable=False),
        sa.Column("blocks", sa.Integer(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(user_id IS NULL) <> (ticket_id IS NULL)",
            name=op.f("ck_play_sessions_member_or_ticket"),
        ),
        sa.CheckConstraint(
            "block_charge >= 0", name=op.f("ck_play_sessions_block_charge_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_play_sessions_session_id_sessions")
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_play_sessions_station_id_stations")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["guest_tickets.id"],
            name=op.f("fk_play_sessions_ticket_id_guest_tickets"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_play_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_play_sessions")),
    )
    with op.batch_alter_table("play_sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_play_sessions_open_block_end", ["ended_at", "block_ends_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_play_sessions_station_id"), ["station_id"], unique=False
        )
        batch_op.create_index(
            "uq_play_sessions_one_login_per_member",
            ["user_id"],
            unique=True,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )
        batch_op.create_index(
            "uq_play_sessions_one_login_per_ticket",
            ["ticket_id"],
            unique=True,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("card_number", sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_users_card_number"), ["card_number"])


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_users_card_number"), type_="unique")
        batch_op.drop_column("card_number")

    with op.batch_alter_table("play_sessions", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_play_sessions_one_login_per_ticket",
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )
        batch_op.drop_index(
            "uq_play_sessions_one_login_per_member",
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_play_sessions_station_id"))
        batch_op.drop_index("ix_play_sessions_open_block_end")

    op.drop_table("play_sessions")
    op.drop_table("guest_tickets")
