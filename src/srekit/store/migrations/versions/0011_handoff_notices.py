"""On-call handoff notices: each primary-layer handoff the notifier has seen, once per
rotation and instant, and whether it was sent and delivered.

Revision ID: 0011_handoff_notices
Revises: 0010_history
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_handoff_notices"
down_revision: str | None = "0010_history"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "handoff_notices",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("rotation", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("member", sa.String(length=200), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_notices")),
        sa.UniqueConstraint("rotation", "at", name=op.f("uq_handoff_notices_rotation_at")),
    )


def downgrade() -> None:
    op.drop_table("handoff_notices")
