"""Alert quality: an incident closed as noise (a false alarm) says so, and alerts are found
by when they started.

Revision ID: 0008_alert_quality
Revises: 0007_notify
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_alert_quality"
down_revision: str | None = "0007_notify"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(
            sa.Column("noise", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("alerts") as batch:
        batch.create_index("ix_alerts_starts_at", ["starts_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_index("ix_alerts_starts_at")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("noise")
