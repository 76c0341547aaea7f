"""Reservations (issue 12 §2): bookings of a PC for a time slot, never overlapping.

The overlap rule is the database's, not only the application's: an exclusion constraint
on PostgreSQL (btree_gist gives GiST an equality operator class for the station's uuid), a
pair of triggers on SQLite. Only active bookings (BOOKED, CHECKED_IN) count; a cancelled
or released one frees its slot. NB SQLite: a later batch_alter_table on ``reservations``
recreates the table and drops its triggers; such a migration must create them again
(``create_sqlite_triggers`` below).

Revision ID: 0100
Revises: 0070
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0100"
down_revision: str | None = "0070"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("BOOKED", "CHECKED_IN", "CANCELLED", "NO_SHOW")
OUTCOMES = ("HELD", "CREDITED", "REFUNDED", "KEPT", "NONE")
ACTIVE = "('BOOKED', 'CHECKED_IN')"
# The same overlap test, written once for both SQLite triggers (NEW is the row written).
_OVERLAP = f"""
    WHEN NEW.status IN {ACTIVE} AND EXISTS (
        SELECT 1 FROM reservations other
        WHERE other.station_id = NEW.station_id
          AND other.id <> NEW.id
          AND other.status IN {ACTIVE}
          AND other.starts_at < NEW.ends_at
          AND NEW.starts_at < other.ends_at
    )
    BEGIN
        SELECT RAISE(ABORT, 'reservations_no_overlap: the station is booked then');
    END
"""


def _enum(values: tuple[str, ...], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=32)


def upgrade() -> None:
    moment = sa.DateTime(timezone=True)
    op.create_table(
        "reservations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("station_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=True),
        sa.Column("starts_at", moment, nullable=False),
        sa.Column("ends_at", moment, nullable=False),
        sa.Column("status", _enum(STATUSES, "reservationstatus"), nullable=False),
        sa.Column("deposit", sa.BigInteger(), nullable=False),
        sa.Column("deposit_outcome", _enum(OUTCOMES, "depositoutcome"), nullable=False),
        sa.Column("announced_at", moment, nullable=True),
        sa.Column("checked_in_at", moment, nullable=True),
        sa.Column("session_id", sa.Uuid(), nullable=True),
        sa.Column("closed_at", moment, nullable=True),
        sa.Column("closed_by", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_reservations_ends_after_start")),
        sa.CheckConstraint("deposit >= 0", name=op.f("ck_reservations_deposit_not_negative")),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_reservations_station_id_stations")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_reservations_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_reservations_session_id_sessions")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by"], ["users.id"], name=op.f("fk_reservations_closed_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_reservations_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations")),
    )
    op.create_index("ix_reservations_station_starts", "reservations", ["station_id", "starts_at"])
    op.create_index("ix_reservations_status_starts", "reservations", ["status", "starts_at"])
    op.create_index("ix_reservations_user_starts", "reservations", ["user_id", "starts_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE reservations ADD CONSTRAINT reservations_no_overlap "
            "EXCLUDE USING gist (station_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
            f"WHERE (status IN {ACTIVE})"
        )
    else:
        create_sqlite_triggers()


def create_sqlite_triggers() -> None:
    op.execute(
        f"CREATE TRIGGER reservations_no_overlap_insert BEFORE INSERT ON reservations {_OVERLAP}"
    )
    op.execute(
        "CREATE TRIGGER reservations_no_overlap_update "
        f"BEFORE UPDATE OF station_id, starts_at, ends_at, status ON reservations {_OVERLAP}"
    )


def downgrade() -> None:
    # The constraint and the triggers go with the table; btree_gist stays (others may use it).
    op.drop_index("ix_reservations_user_starts", table_name="reservations")
    op.drop_index("ix_reservations_status_starts", table_name="reservations")
    op.drop_index("ix_reservations_station_starts", table_name="reservations")
    op.drop_table("reservations")
