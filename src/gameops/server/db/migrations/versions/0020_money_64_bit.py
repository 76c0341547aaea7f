"""Money columns 64-bit: a 32-bit integer overflows at 2,147,483,647 minor units.

Revision ID: 0020
Revises: 0082
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0082"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY_COLUMNS = {
    "ledger_entries": ("amount", "balance_after"),
    "payments": ("amount",),
    "rate_plans": ("member_hourly_rate", "guest_hourly_rate"),
    "sessions": ("amount_total",),
    "stations": ("hourly_rate",),
    "users": ("balance",),
    # The till's (0080-0082): cash counts, receipts, the shop.
    "shifts": ("opening_float", "counted_cash", "expected_cash", "variance"),
    "shift_corrections": ("amount",),
    "receipts": ("total",),
    "products": ("price",),
    "shop_sale_lines": ("unit_price", "amount"),
}


def _retype(old: sa.types.TypeEngine[int], new: sa.types.TypeEngine[int]) -> None:
    for table, columns in MONEY_COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, existing_type=old, type_=new)


def upgrade() -> None:
    _retype(sa.Integer(), sa.BigInteger())


def downgrade() -> None:
    _retype(sa.BigInteger(), sa.Integer())
