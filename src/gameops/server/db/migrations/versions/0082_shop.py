"""Snacks and drinks: products with stock, and the lines of each sale.

Revision ID: 0082
Revises: 0081
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0082"
down_revision: str | None = "0081"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("tax_rate_bp", sa.Integer(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("price >= 0", name=op.f("ck_products_price_not_negative")),
        sa.CheckConstraint("stock >= 0", name=op.f("ck_products_stock_not_negative")),
        sa.CheckConstraint(
            "tax_rate_bp >= 0 AND tax_rate_bp <= 10000", name=op.f("ck_products_tax_rate_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("name", name=op.f("uq_products_name")),
    )
    op.create_table(
        "shop_sale_lines",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("tax_rate_bp", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_shop_sale_lines_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_shop_sale_lines_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_shop_sale_lines_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_sale_lines")),
    )
    with op.batch_alter_table("shop_sale_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_shop_sale_lines_payment_id"), ["payment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_shop_sale_lines_product_id"), ["product_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("shop_sale_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_sale_lines_product_id"))
        batch_op.drop_index(batch_op.f("ix_shop_sale_lines_payment_id"))

    op.drop_table("shop_sale_lines")
    op.drop_table("products")
