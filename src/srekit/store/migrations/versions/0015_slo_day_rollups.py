"""SLO history by day: one row per SLO per UTC day, rolled up from its hourly rollups, so the
dashboard's 30-day views read a row a day; filled here from the hourly rollups already stored.

Revision ID: 0015_slo_day_rollups
Revises: 0014_load_runs
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

from srekit.core.history import HourClose, day_floor, day_number, rollup_day

revision: str = "0015_slo_day_rollups"
down_revision: str | None = "0014_load_runs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_HOURS = sa.table(
    "slo_history_hours",
    sa.column("slo_id", _ID),
    sa.column("hour_start", sa.DateTime(timezone=True)),
    sa.column("sli_last", sa.Float()),
    sa.column("remaining_last", sa.Float()),
    sa.column("burn_rates_json", sa.Text()),
    sa.column("budget_burned", sa.Float()),
)
_DAYS = sa.table(
    "slo_history_days",
    sa.column("slo_id", _ID),
    sa.column("day", sa.Integer()),
    sa.column("hours", sa.Integer()),
    sa.column("close_hour_start", sa.DateTime(timezone=True)),
    sa.column("sli_last", sa.Float()),
    sa.column("remaining_last", sa.Float()),
    sa.column("burn_1d_last", sa.Float()),
    sa.column("budget_burned", sa.Float()),
)


def _utc(moment: datetime) -> datetime:
    """SQLite hands timestamps back naive (they are stored in UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _burn_1d(burn_rates_json: str) -> float | None:
    parts = orjson.loads(burn_rates_json).get("1d")
    return None if parts is None else parts[3]


def _day_values(day: datetime, rows: Iterable[Any]) -> list[dict[str, Any]]:
    """The day rollups of `rows` (one day's hours, ordered by SLO then hour): the 1-day burn
    rate is decoded from each SLO's last hour only, the one the day closes with. The same
    as `store.repo.refresh_day_rollups` writes, frozen here against this revision's tables
    (a later change to the repo's tables must not change what this migration did)."""
    by_slo: dict[int, list[Any]] = {}
    for row in rows:
        by_slo.setdefault(row.slo_id, []).append(row)
    values = []
    for slo_id, hours in by_slo.items():
        last = hours[-1]
        rolled = rollup_day(
            day,
            [
                HourClose(
                    _utc(hour.hour_start),
                    hour.sli_last,
                    hour.remaining_last,
                    _burn_1d(hour.burn_rates_json) if hour is last else None,
                    hour.budget_burned,
                )
                for hour in hours
            ],
        )
        values.append(
            {
                "slo_id": slo_id,
                "day": day_number(rolled.day_start),
                "hours": rolled.hours,
                "close_hour_start": rolled.close_hour_start,
                "sli_last": rolled.sli,
                "remaining_last": rolled.remaining,
                "burn_1d_last": rolled.burn_1d,
                "budget_burned": rolled.budget_burned,
            }
        )
    return values


def _backfill(connection: sa.Connection) -> None:
    """Every day holding hourly rollups, a day at a time (a day of 1,000 SLOs is 24,000
    rows), through the `hour_start` index."""
    first, last = connection.execute(
        sa.select(sa.func.min(_HOURS.c.hour_start), sa.func.max(_HOURS.c.hour_start))
    ).one()
    if first is None:
        return
    day = day_floor(_utc(first))
    while day <= _utc(last):
        rows = connection.execute(
            sa.select(*_HOURS.c)
            .where(_HOURS.c.hour_start >= day, _HOURS.c.hour_start < day + timedelta(days=1))
            .order_by(_HOURS.c.slo_id, _HOURS.c.hour_start)
        )
        values = _day_values(day, rows)
        if values:
            connection.execute(sa.insert(_DAYS), values)
        day += timedelta(days=1)


def upgrade() -> None:
    op.create_table(
        "slo_history_days",
        sa.Column("id", _ID, nullable=False),
        sa.Column("slo_id", _ID, nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("close_hour_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sli_last", sa.Float(), nullable=True),
        sa.Column("remaining_last", sa.Float(), nullable=True),
        sa.Column("burn_1d_last", sa.Float(), nullable=True),
        sa.Column("budget_burned", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["slo_id"],
            ["slos.id"],
            name=op.f("fk_slo_history_days_slo_id_slos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slo_history_days")),
        sa.UniqueConstraint("slo_id", "day", name=op.f("uq_slo_history_days_slo_id_day")),
    )
    op.create_index(
        "ix_slo_history_days_day",
        "slo_history_days",
        ["day", "slo_id", "budget_burned"],
    )
    _backfill(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_slo_history_days_day", table_name="slo_history_days")
    op.drop_table("slo_history_days")
