"""Capacity plans: each resource's forecast and recommendation from a recorded run, so a
later run can say how the earlier forecast did.

Revision ID: 0012_capacity_plans
Revises: 0011_handoff_notices
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_capacity_plans"
down_revision: str | None = "0011_handoff_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "capacity_plans",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("service", sa.String(length=200), nullable=False),
        sa.Column("resource", sa.String(length=200), nullable=False),
        sa.Column("plan", sa.String(length=200), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("step_s", sa.Integer(), nullable=False),
        sa.Column("capacity_limit", sa.Float(), nullable=False),
        sa.Column("forecast_json", sa.Text(), nullable=False),
        sa.Column("summary_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capacity_plans")),
    )
    op.create_index(
        "ix_capacity_plans_service_resource",
        "capacity_plans",
        ["service", "resource", "made_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_capacity_plans_service_resource", table_name="capacity_plans")
    op.drop_table("capacity_plans")
