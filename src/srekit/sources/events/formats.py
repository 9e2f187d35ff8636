"""The file formats events are ingested from, each parsed by DuckDB into the event columns.

nginx access logs (`combined` plus `$request_time`) are split on their quotes in SQL; JSONL,
CSV and Parquet map their columns onto event columns by name, through the aliases below
(`status_code`, `request_time`, `duration_ms` ...). `stage` parses a file into a temporary
table, `srekit_staging`, where a record that does not parse keeps its raw text in `rejected`
so that an ingest can count it, show it, and refuse a file that is mostly malformed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final, Literal, get_args

import duckdb

from srekit.errors import SpecError
from srekit.sources.events.schema import EVENT_COLUMNS

__all__ = ["EVENT_FORMATS", "FORMAT_EXPECTED", "EventFormat", "stage"]

EventFormat = Literal["nginx", "jsonl", "csv", "parquet"]
EVENT_FORMATS: Final[tuple[EventFormat, ...]] = get_args(EventFormat)

_URL_ORIGIN: Final = "'^[A-Za-z][A-Za-z0-9+.-]*://[^/]*'"

# Names accepted for each event column in JSONL, CSV and Parquet files (compared lowercased).
_ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    "ts": ("ts", "time", "timestamp", "@timestamp", "datetime", "ts_ms", "time_ms", "timestamp_ms"),
    "status": ("status", "status_code", "http_status", "response_code", "code"),
    "duration_s": (
        "duration_s",
        "duration",
        "request_time",
        "latency_s",
        "latency",
        "elapsed_s",
        "response_time",
        "duration_ms",
        "latency_ms",
        "elapsed_ms",
        "response_time_ms",
        "request_time_ms",
    ),
    "method": ("method", "http_method", "request_method", "verb"),
    "path": ("path", "uri", "url", "request_uri", "route", "endpoint"),
    "query": ("query", "query_string", "args"),
    "protocol": ("protocol", "server_protocol", "http_version"),
    "client": ("client", "remote_addr", "client_ip", "ip", "remote_ip"),
    "remote_user": ("remote_user", "user"),
    "bytes": ("bytes", "body_bytes_sent", "bytes_sent", "size", "response_size"),
    "referer": ("referer", "referrer", "http_referer"),
    "user_agent": ("user_agent", "http_user_agent", "ua", "agent"),
}

FORMAT_EXPECTED: Final[Mapping[EventFormat, str]] = {
    "nginx": (
        "nginx `combined` lines followed by $request_time "
        '(`$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
        '"$http_referer" "$http_user_agent" $request_time`)'
    ),
    "jsonl": "JSON objects, one per line, with a parseable timestamp",
    "csv": "CSV rows with a header and a parseable timestamp",
    "parquet": "rows with a parseable timestamp",
}


def stage(
    cur: duckdb.DuckDBPyConnection,
    *,
    source: Path,
    format: EventFormat,
) -> list[tuple[str]]:
    """Parse `source` into temp table `srekit_staging`: event columns plus `rejected`, the
    raw record where `ts` is NULL. Returns records the reader itself refused (CSV rows with
    the wrong number of fields), which never reach the table."""
    literal = _sql_string(str(source))
    if format == "nginx":
        cur.execute(f"CREATE TEMP TABLE srekit_staging AS {_nginx_sql(literal)}")
        return []
    if format == "parquet":
        relation = f"read_parquet({literal})"
        cur.execute(f"CREATE TEMP TABLE srekit_staging AS {_tabular_sql(cur, relation, source)}")
        return []
    if format == "jsonl":
        keys = [
            str(row[0])
            for row in cur.execute(
                f"SELECT DISTINCT unnest(json_keys(j)) FROM ({_json_lines_sql(literal)}) "
                "WHERE json_type(j) = 'OBJECT' ORDER BY 1"
            ).fetchall()
        ]
        fields = "".join(f", j->>{_sql_string(key)} AS {_ident(key)}" for key in keys)
        relation = (
            f"(SELECT CASE WHEN json_type(j) = 'OBJECT' THEN true END AS srekit_ok, "
            f"line AS srekit_line{fields} FROM ({_json_lines_sql(literal)}))"
        )
        cur.execute(f"CREATE TEMP TABLE srekit_staging AS {_tabular_sql(cur, relation, source)}")
        return []
    relation = (
        f"read_csv({literal}, header = true, all_varchar = true, ignore_errors = true, "
        "store_rejects = true, rejects_scan = 'srekit_reject_scans', "
        "rejects_table = 'srekit_reject_errors')"
    )
    cur.execute(f"CREATE TEMP TABLE srekit_staging AS {_tabular_sql(cur, relation, source)}")
    structural = cur.execute(
        "SELECT coalesce(csv_line, error_message) FROM srekit_reject_errors ORDER BY line"
    ).fetchall()
    cur.execute("DROP TABLE srekit_reject_errors")
    cur.execute("DROP TABLE srekit_reject_scans")
    return [(str(row[0]),) for row in structural]


def _tabular_sql(cur: duckdb.DuckDBPyConnection, relation: str, source: Path) -> str:
    """SELECT mapping a JSONL/CSV/Parquet relation's columns onto event columns by name."""
    described = cur.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    found = {str(row[0]).lower(): (str(row[0]), str(row[1])) for row in described}
    found.pop("srekit_ok", None)
    has_line = found.pop("srekit_line", None) is not None
    # Every alias present counts, first one first: files that mix `ts` and `time` still load.
    chosen = {
        column: [found[alias] + (alias,) for alias in aliases if alias in found]
        for column, aliases in _ALIASES.items()
    }
    visible = ", ".join(original for original, _ in found.values()) or "none"
    if not chosen["ts"]:
        raise SpecError(
            f"no timestamp column: expected one of {', '.join(_ALIASES['ts'])} "
            f"(columns found: {visible})",
            file=str(source),
            field="ts",
        )
    if not chosen["status"] and not chosen["duration_s"]:
        expected = ", ".join(_ALIASES["status"] + _ALIASES["duration_s"])
        raise SpecError(
            f"no status or duration column: expected one of {expected} (columns found: {visible})",
            file=str(source),
            field="status",
        )
    exprs: dict[str, str] = {}
    checks = ["srekit_ok IS NOT NULL" if has_line else "true"]
    for column, candidates in chosen.items():
        converted = []
        for original, kind, alias in candidates:
            expr = _convert_sql(column, _ident(original), kind, alias)
            converted.append(expr)
            if column in ("ts", "status", "duration_s", "bytes"):
                # A value that is there but does not parse makes the record malformed.
                checks.append(f"({_ident(original)} IS NULL OR {expr} IS NOT NULL)")
        if converted:
            exprs[column] = (
                converted[0] if len(converted) == 1 else f"coalesce({', '.join(converted)})"
            )
    if "path" in exprs:
        # `https://host/a?b` -> path `/a`, query `b`
        text = f"regexp_replace({exprs['path']}, {_URL_ORIGIN}, '')"
        if "query" not in exprs:
            exprs["query"] = f"nullif(split_part({text}, '?', 2), '')"
        exprs["path"] = f"nullif(split_part({text}, '?', 1), '')"
    ok = " AND ".join(checks)
    # The record as it was, to show in the report: CSV/Parquet rows are re-joined by commas.
    raw = "srekit_line"
    if not has_line:
        raw = " || ',' || ".join(
            f"coalesce(CAST({_ident(original)} AS VARCHAR), '')" for original, _ in found.values()
        )
    outputs = [
        f"CASE WHEN {ok} THEN {exprs['ts']} END AS ts",
        *(
            f"{exprs.get(column, 'NULL')}::{kind} AS {column}"
            for column, kind in EVENT_COLUMNS
            if column not in ("ts", "service", "ingest_id")
        ),
        f"CASE WHEN NOT ({ok}) OR {exprs['ts']} IS NULL THEN {raw} END AS rejected",
    ]
    return f"SELECT {', '.join(outputs)} FROM {relation}"


def _nginx_sql(literal: str) -> str:
    """SELECT parsing nginx combined + $request_time lines into event columns.

    Splitting on `"` beats a capturing regex several times over: nginx escapes `"` inside
    fields as \\x22, so a well-formed line has exactly 7 parts:
    `<addr - user [time] >`, request, ` status bytes `, referer, ` `, user agent, ` request_time`.
    """
    lines = (
        f"read_csv({literal}, columns = {{'line': 'VARCHAR'}}, header = false, "
        "delim = '\\x01', quote = '', escape = '', auto_detect = false, strict_mode = false)"
    )
    return f"""
    WITH parts AS (
        SELECT line, string_split(line, '"') AS p FROM {lines}
        WHERE line IS NOT NULL AND trim(line) <> ''
    ), fields AS (
        SELECT line, p,
            string_split(p[1], ' ') AS head,
            string_split(trim(p[3]), ' ') AS mid,
            string_split(p[2], ' ') AS request
        FROM parts
    ), typed AS (
        SELECT line, p, head, request,
            try_strptime(
                CASE WHEN len(head) = 6 THEN substr(head[4], 2) || ' ' || rtrim(head[5], ']') END,
                '%d/%b/%Y:%H:%M:%S %z'
            ) AS parsed_ts,
            try_cast(mid[1] AS INTEGER) AS status,
            try_cast(mid[2] AS BIGINT) AS bytes,
            try_cast(trim(p[7]) AS DOUBLE) AS duration_s,
            len(p) = 7 AND len(head) = 6 AND head[2] = '-' AND head[6] = ''
                AND starts_with(head[4], '[') AND ends_with(head[5], ']') AND p[5] = ' '
                AND len(mid) = 2 AND status BETWEEN 100 AND 599 AND bytes IS NOT NULL
                AND duration_s >= 0 AND parsed_ts IS NOT NULL AS ok,
            CASE WHEN len(request) IN (2, 3) THEN request[2] END AS target
        FROM fields
    )
    SELECT
        CASE WHEN ok THEN parsed_ts END AS ts,
        status,
        duration_s,
        CASE WHEN len(request) IN (2, 3) THEN request[1] END AS method,
        nullif(split_part(target, '?', 1), '') AS path,
        nullif(split_part(target, '?', 2), '') AS query,
        CASE WHEN len(request) = 3 THEN request[3] END AS protocol,
        head[1] AS client,
        nullif(head[3], '-') AS remote_user,
        bytes,
        nullif(p[4], '-') AS referer,
        nullif(p[6], '-') AS user_agent,
        CASE WHEN NOT coalesce(ok, false) THEN line END AS rejected
    FROM typed
    """


def _json_lines_sql(literal: str) -> str:
    return (
        f"SELECT line, try_cast(line AS JSON) AS j FROM read_csv({literal}, "
        "columns = {'line': 'VARCHAR'}, header = false, delim = '\\x01', quote = '', "
        "escape = '', auto_detect = false, strict_mode = false) "
        "WHERE line IS NOT NULL AND trim(line) <> ''"
    )


def _convert_sql(column: str, ref: str, kind: str, alias: str) -> str:
    """One source column converted to the type of event column `column`."""
    if column == "ts":
        return _timestamp_sql(ref, kind, milliseconds=alias.endswith("_ms"))
    if column == "status":
        return f"try_cast({ref} AS INTEGER)"
    if column == "duration_s":
        return f"try_cast({ref} AS DOUBLE)" + (" / 1000.0" if alias.endswith("_ms") else "")
    if column == "bytes":
        return f"try_cast({ref} AS BIGINT)"
    return f"nullif(CAST({ref} AS VARCHAR), '-')"


def _timestamp_sql(ref: str, kind: str, *, milliseconds: bool) -> str:
    """A TIMESTAMPTZ from a column of any type: naive times and strings without an offset are
    UTC; numbers are Unix seconds (milliseconds when the column's name ends in `_ms`)."""
    scale = " / 1000.0" if milliseconds else ""
    upper = kind.upper()
    if upper == "TIMESTAMP WITH TIME ZONE":
        return ref
    if upper.startswith("TIMESTAMP") or upper == "DATE":
        return f"timezone('UTC', CAST({ref} AS TIMESTAMP))"
    if upper == "VARCHAR":
        return (
            f"coalesce(try_cast({ref} AS TIMESTAMPTZ), "
            f"try(to_timestamp(try_cast({ref} AS DOUBLE){scale})))"
        )
    return f"try(to_timestamp(CAST({ref} AS DOUBLE){scale}))"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
