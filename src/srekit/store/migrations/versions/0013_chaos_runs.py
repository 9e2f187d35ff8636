"""Chaos experiment runs, per service: outcome, deviations, budget consumed, journal.

Revision ID: 0013_chaos_runs
Revises: 0012_capacity_plans
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_chaos_runs"
down_revision: str | None = "0012_capacity_plans"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chaos_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("service", sa.String(length=200), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("deviated", sa.Boolean(), nullable=False),
        sa.Column("deviations_json", sa.Text(), nullable=False),
        sa.Column("budget_consumed", sa.Float(), nullable=True),
        sa.Column("journal_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chaos_runs")),
    )
    op.create_index(
        "ix_chaos_runs_service_started_at", "chaos_runs", ["service", "started_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_chaos_runs_service_started_at", table_name="chaos_runs")
    op.drop_table("chaos_runs")
