"""Series files: CSV and Parquet read alike; every bad file named with what was expected."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pytest

from srekit.capacity.series import read_series
from srekit.errors import SpecError


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "usage.csv"
    path.write_text(text)
    return path


def test_csv_with_unix_seconds_and_rfc3339(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "timestamp,value\n0,1.5\n2026-01-01T00:00:00Z,2\n2026-01-01T01:00:00+01:00,NaN\n",
    )
    timestamps, values = read_series(path)
    assert timestamps == [0.0, 1_767_225_600.0, 1_767_225_600.0]
    assert values[:2] == [1.5, 2.0]
    assert math.isnan(values[2])


def _write_parquet(query: str, path: Path) -> None:
    relation = duckdb.sql(query)
    assert relation is not None  # a query that returns rows
    relation.write_parquet(str(path))


def test_parquet_reads_like_csv(tmp_path: Path) -> None:
    path = tmp_path / "usage.parquet"
    _write_parquet("SELECT * FROM (VALUES (0, 1.5), (60, 2.5)) t(timestamp, value)", path)
    assert read_series(path) == ([0.0, 60.0], [1.5, 2.5])


def test_parquet_with_timestamps(tmp_path: Path) -> None:
    path = tmp_path / "usage.parquet"
    _write_parquet("SELECT TIMESTAMPTZ '2026-01-01 00:00:00+00' AS timestamp, 3.0 AS value", path)
    assert read_series(path) == ([1_767_225_600.0], [3.0])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("time,value\n0,1\n", "expected columns timestamp,value; missing timestamp"),
        ("timestamp\n0\n", "missing value"),
        ("timestamp,value\n", "no rows"),
        ("", "missing timestamp, value"),
        ("timestamp,value\nyesterday,1\n", "row 2: expected Unix seconds or an RFC 3339 time"),
        ("timestamp,value\n2026-01-01T00:00:00,1\n", "with an offset"),
        ("timestamp,value\n0,1\n60,lots\n", "row 3: expected a number, got 'lots'"),
        ("timestamp,value\nnan,1\n", "no finite timestamp"),
    ],
)
def test_bad_csv_is_named(tmp_path: Path, text: str, message: str) -> None:
    path = _csv(tmp_path, text)
    with pytest.raises(SpecError, match=message) as raised:
        read_series(path)
    assert raised.value.file == str(path)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot read"):
        read_series(tmp_path / "absent.csv")
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    with pytest.raises(SpecError, match="cannot read as Parquet"):
        read_series(bad)
    wrong = tmp_path / "wrong.parquet"
    _write_parquet("SELECT 1 AS ts, 2 AS value", wrong)
    with pytest.raises(SpecError, match="missing timestamp"):
        read_series(wrong)
