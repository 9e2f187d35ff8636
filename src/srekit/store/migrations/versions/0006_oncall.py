"""On call: people, and rotations with every applied version.

Revision ID: 0006_oncall
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_oncall"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("display_name", sa.String(length=500), nullable=True),
        sa.Column("email", sa.String(length=500), nullable=True),
        sa.Column("timezone", sa.String(length=100), nullable=True),
        sa.Column("team", sa.String(length=200), nullable=True),
        sa.Column("contacts_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("name", name=op.f("uq_people_name")),
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index("ix_people_team", ["team"], unique=False)

    op.create_table(
        "rotations",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("team", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("spec_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rotations")),
        sa.UniqueConstraint("name", name=op.f("uq_rotations_name")),
    )
    with op.batch_alter_table("rotations", schema=None) as batch_op:
        batch_op.create_index("ix_rotations_team", ["team"], unique=False)

    op.create_table(
        "rotation_versions",
        sa.Column("id", _ID, nullable=False),
        sa.Column("rotation_id", _ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("spec_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["rotation_id"],
            ["rotations.id"],
            name=op.f("fk_rotation_versions_rotation_id_rotations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rotation_versions")),
        sa.UniqueConstraint(
            "rotation_id", "version", name=op.f("uq_rotation_versions_rotation_id_version")
        ),
    )


def downgrade() -> None:
    op.drop_table("rotation_versions")
    with op.batch_alter_table("rotations", schema=None) as batch_op:
        batch_op.drop_index("ix_rotations_team")
    op.drop_table("rotations")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index("ix_people_team")
    op.drop_table("people")
