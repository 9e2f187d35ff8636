"""SLO history: one row per SLO per hour rolling up that hour's snapshots, kept far longer
than the raw snapshots.

Revision ID: 0010_history
Revises: 0009_escalation
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_history"
down_revision: str | None = "0009_escalation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FIGURES = ("sli", "remaining", "bad_events", "total_events")


def upgrade() -> None:
    op.create_table(
        "slo_history_hours",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("slo_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("hour_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("objective", sa.Float(), nullable=False),
        sa.Column("window", sa.String(length=40), nullable=False),
        sa.Column("window_s", sa.Integer(), nullable=False),
        *(
            sa.Column(f"{figure}_{part}", sa.Float(), nullable=True)
            for figure in _FIGURES
            for part in ("min", "max", "first", "last")
        ),
        sa.Column("burn_rates_json", sa.Text(), nullable=False),
        sa.Column("budget_burned", sa.Float(), nullable=True),
        sa.Column("worst_data", sa.String(length=16), nullable=False),
        sa.Column("worst_policy_state", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["slo_id"],
            ["slos.id"],
            name=op.f("fk_slo_history_hours_slo_id_slos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slo_history_hours")),
        sa.UniqueConstraint(
            "slo_id", "hour_start", name=op.f("uq_slo_history_hours_slo_id_hour_start")
        ),
    )
    op.create_index(
        "ix_slo_history_hours_hour_start",
        "slo_history_hours",
        ["hour_start", "slo_id", "budget_burned"],
    )


def downgrade() -> None:
    op.drop_index("ix_slo_history_hours_hour_start", table_name="slo_history_hours")
    op.drop_table("slo_history_hours")
