"""Canary analyses kept per service: selectors, window, verdict, confidence and the document.

Revision ID: 0016_canary_analyses
Revises: 0014_load_runs
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_canary_analyses"
down_revision: str | None = "0015_slo_day_rollups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "canary_analyses",
        sa.Column("id", _ID, nullable=False),
        sa.Column("service", sa.String(length=200), nullable=False),
        sa.Column("canary", sa.String(length=2000), nullable=False),
        sa.Column("baseline", sa.String(length=2000), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_s", sa.Integer(), nullable=False),
        sa.Column("step_s", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("document_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canary_analyses")),
    )
    op.create_index(
        "ix_canary_analyses_service_recorded_at",
        "canary_analyses",
        ["service", "recorded_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_canary_analyses_service_recorded_at", table_name="canary_analyses")
    op.drop_table("canary_analyses")
