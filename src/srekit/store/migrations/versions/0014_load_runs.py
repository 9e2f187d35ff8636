"""Load tests: each run's results and gate verdict per service, and the versioned baselines
later runs are compared with.

Revision ID: 0014_load_runs
Revises: 0013_chaos_runs
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_load_runs"
down_revision: str | None = "0013_chaos_runs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "load_runs",
        sa.Column("id", _ID, nullable=False),
        sa.Column("service", sa.String(length=200), nullable=False),
        sa.Column("tool", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("summary_json", sa.Text(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("verdict_json", sa.Text(), nullable=True),
        sa.Column("baseline_version", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_load_runs")),
    )
    op.create_index(
        "ix_load_runs_service_recorded_at", "load_runs", ["service", "recorded_at"], unique=False
    )
    op.create_table(
        "load_baselines",
        sa.Column("id", _ID, nullable=False),
        sa.Column("service", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("run_id", _ID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["load_runs.id"],
            name=op.f("fk_load_baselines_run_id_load_runs"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_load_baselines")),
        sa.UniqueConstraint("service", "version", name=op.f("uq_load_baselines_service_version")),
    )


def downgrade() -> None:
    op.drop_table("load_baselines")
    op.drop_index("ix_load_runs_service_recorded_at", table_name="load_runs")
    op.drop_table("load_runs")
