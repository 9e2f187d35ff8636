"""SLO snapshots (what each evaluation round found) and deployments (what the gate answered).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.Column[int]:
    # 64-bit on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False)


def _utc(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _figure(name: str) -> sa.Column[float]:
    return sa.Column(name, sa.Float(), nullable=True)


def upgrade() -> None:
    op.create_table(
        "slo_snapshots",
        _id(),
        sa.Column("slo_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("slo_version", sa.Integer(), nullable=False),
        _utc("evaluated_at"),
        sa.Column("objective", sa.Float(), nullable=False),
        sa.Column("window", sa.String(length=40), nullable=False),
        sa.Column("window_s", sa.Integer(), nullable=False),
        _figure("sli"),
        _figure("remaining"),
        _figure("consumed"),
        _figure("allowed_bad_events"),
        _figure("good_events"),
        _figure("total_events"),
        sa.Column("burn_rates_json", sa.Text(), nullable=False),
        _figure("time_to_exhaustion_s"),
        sa.Column("policy_state", sa.String(length=40), nullable=False),
        sa.Column("data", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("alerts_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["slo_id"], ["slos.id"], name=op.f("fk_slo_snapshots_slo_id_slos"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slo_snapshots")),
    )
    op.create_index(
        "ix_slo_snapshots_slo_id_evaluated_at", "slo_snapshots", ["slo_id", "evaluated_at", "id"]
    )
    op.create_index("ix_slo_snapshots_evaluated_at", "slo_snapshots", ["evaluated_at"])
    op.create_table(
        "deployments",
        _id(),
        sa.Column("service", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=200), nullable=True),
        _utc("commit_time", nullable=True),
        sa.Column("change_type", sa.String(length=40), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("reasons_json", sa.Text(), nullable=False),
        _utc("requested_at"),
        sa.Column("requested_by", sa.String(length=200), nullable=True),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployments")),
    )
    op.create_index(
        "ix_deployments_service_requested_at", "deployments", ["service", "requested_at"]
    )


def downgrade() -> None:
    op.drop_table("deployments")
    op.drop_table("slo_snapshots")
