"""A usage series from a CSV or Parquet file with `timestamp,value` columns.

Timestamps are Unix seconds or RFC 3339 times with an offset; values are numbers (NaN kept,
for `core.capacity.prepare_series` to drop and count). Every problem is a SpecError naming
the file, the row and what was expected.
"""

from __future__ import annotations

import csv
import math
from datetime import datetime
from pathlib import Path

from srekit.errors import SpecError

__all__ = ["read_series"]

_COLUMNS = ("timestamp", "value")


def _timestamp(text: str, *, file: str, row: int) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise SpecError(
            f"row {row}: expected Unix seconds or an RFC 3339 time with an offset, got {text!r}",
            file=file,
            field="timestamp",
        )
    return parsed.timestamp()


def _value(text: str, *, file: str, row: int) -> float:
    try:
        return float(text)
    except ValueError:
        raise SpecError(
            f"row {row}: expected a number, got {text!r}", file=file, field="value"
        ) from None


def _rows_csv(path: Path) -> list[tuple[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in _COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise SpecError(
                    f"expected columns timestamp,value; missing {', '.join(missing)}",
                    file=str(path),
                )
            return [(row["timestamp"] or "", row["value"] or "") for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise SpecError(f"cannot read: {error}", file=str(path)) from None


def _rows_parquet(path: Path) -> list[tuple[str, str]]:
    import duckdb

    try:
        relation = duckdb.read_parquet(str(path))
        columns = list(relation.columns)
        missing = [c for c in _COLUMNS if c not in columns]
        if missing:
            raise SpecError(
                f"expected columns timestamp,value; missing {', '.join(missing)}", file=str(path)
            )
        kind = str(relation.types[columns.index("timestamp")]).upper()
        # timestamps become epoch seconds in DuckDB: fetching TIMESTAMPTZ would need pytz
        ts_column = (
            'epoch("timestamp")' if kind.startswith(("TIMESTAMP", "DATE")) else '"timestamp"'
        )
        rows = relation.select(f'{ts_column}, "value"').fetchall()
    except duckdb.Error as error:
        raise SpecError(f"cannot read as Parquet: {error}", file=str(path)) from None
    return [(_text(ts), "nan" if value is None else str(value)) for ts, value in rows]


def _text(value: object) -> str:
    return "nan" if value is None else str(value)


def read_series(path: Path) -> tuple[list[float], list[float]]:
    """(timestamps in Unix seconds, values) in file order; `.parquet` read with DuckDB."""
    rows = _rows_parquet(path) if path.suffix.lower() == ".parquet" else _rows_csv(path)
    if not rows:
        raise SpecError("no rows; expected timestamp,value rows after the header", file=str(path))
    file = str(path)
    timestamps = [_timestamp(ts, file=file, row=i) for i, (ts, _) in enumerate(rows, start=2)]
    values = [_value(v, file=file, row=i) for i, (_, v) in enumerate(rows, start=2)]
    if not any(math.isfinite(t) for t in timestamps):
        raise SpecError("no finite timestamp", file=file, field="timestamp")
    return timestamps, values
