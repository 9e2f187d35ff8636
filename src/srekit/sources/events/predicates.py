"""The predicate sandbox: an `EventsRatio` predicate must be one plain boolean expression.

Predicates come from spec files and are pasted into SQL, so before one reaches a query it is
checked to be a single boolean expression over event columns: no `;`, no comments, no
subqueries, window functions or `*`, and no function that reads the environment or the
clock. Checks run on DuckDB's own tokens and parse tree, then DuckDB binds the expression
against `events`, so its verdict on types and column names is the one that counts.

`check_events_slo` runs the sandbox without an event store, against an in-memory database
holding the event schema, so a spec is checked when it is written (`srekit slo apply`, the
API), not only when it is first evaluated.
"""

from __future__ import annotations

import atexit
import json
import threading
from typing import Any, Final

import duckdb

from srekit.core.slo import SLO, EventsRatio
from srekit.errors import SpecError
from srekit.sources.events.schema import create_schema
from srekit.sources.events.sql import first_line

__all__ = ["MAX_PREDICATE_CHARS", "check_events_slo", "predicate_problem"]

#: Longer predicates are refused: real ones are a line, and checking one costs time in its size.
MAX_PREDICATE_CHARS: Final = 10_000
# Verdicts kept per predicate text (they depend on the text and the schema only): at most
# this many, each at most MAX_PREDICATE_CHARS long
_VERDICTS_KEPT: Final = 1024

# Scalar functions a predicate may not call: they read the environment or make the result
# depend on when it is computed, which would break `--at` reproducibility.
_FORBIDDEN_FUNCTIONS: Final = frozenset(
    {
        "getenv",
        "current_setting",
        "current_database",
        "current_schema",
        "current_user",
        "nextval",
        "currval",
        "setseed",
        "random",
        "uuid",
        "gen_random_uuid",
        "now",
        "today",
        "current_date",
        "current_time",
        "current_timestamp",
        "get_current_time",
        "get_current_timestamp",
        "transaction_timestamp",
        "localtime",
        "localtimestamp",
    }
)
_FORBIDDEN_CLASSES: Final = frozenset({"SUBQUERY", "WINDOW", "STAR", "PARAMETER", "DEFAULT"})


def predicate_problem(cur: duckdb.DuckDBPyConnection, text: str) -> str | None:
    """Why `text` cannot be an `EventsRatio` predicate, in a phrase; None when it can."""
    if len(text) > MAX_PREDICATE_CHARS:
        return f"expected at most {MAX_PREDICATE_CHARS} characters, got {len(text)}"
    return _syntax_problem(cur, text) or _bind_problem(cur, text)


def check_events_slo(slo: SLO) -> None:
    """Raise SpecError unless the SLO is an events SLO whose predicates pass the sandbox.

    The error names the SLO, its file and the field (`indicator.good`, `indicator.total`,
    `indicator.stream`). Needs no event store: predicates are bound against an in-memory
    database with the event schema, and each text's verdict is remembered.
    """
    indicator = slo.indicator
    if not isinstance(indicator, EventsRatio):
        raise SpecError(
            f"SLO {slo.id}: the event store answers events indicators only, "
            f"not {type(indicator).__name__}",
            file=slo.source_file,
            field="indicator",
        )
    if indicator.stream is not None and not indicator.stream.strip():
        raise SpecError(
            f"SLO {slo.id}: expected a service name, got an empty stream",
            file=slo.source_file,
            field="indicator.stream",
        )
    for field_name, text in (("good", indicator.good), ("total", indicator.total)):
        problem = _SCRATCH.problem(text)
        if problem is not None:
            shown = text if len(text) <= 200 else text[:200] + "..."
            raise SpecError(
                f"SLO {slo.id}: {problem} (predicate: {shown!r})",
                file=slo.source_file,
                field=f"indicator.{field_name}",
            )


class _Scratch:
    """An in-memory DuckDB with the event schema, opened on first use, and the verdicts
    it gave; one check at a time (a check takes about a millisecond)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conn: duckdb.DuckDBPyConnection | None = None
        self._verdicts: dict[str, str | None] = {}

    def problem(self, text: str) -> str | None:
        with self._lock:
            if text in self._verdicts:
                return self._verdicts[text]
            if self._conn is None:
                conn = duckdb.connect(":memory:")
                create_schema(conn)
                self._conn = conn
                atexit.register(self.close)
            problem = predicate_problem(self._conn, text)
            if len(text) <= MAX_PREDICATE_CHARS:
                if len(self._verdicts) >= _VERDICTS_KEPT:
                    self._verdicts.clear()
                self._verdicts[text] = problem
            return problem

    def close(self) -> None:
        # dropped before the interpreter exits, or DuckDB's bindings report it as leaked
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


_SCRATCH: Final = _Scratch()


def _bind_problem(cur: duckdb.DuckDBPyConnection, text: str) -> str | None:
    """DuckDB's own verdict: the predicate must bind against `events` and be boolean."""
    try:
        kind = cur.execute(f"DESCRIBE SELECT ({text}) AS p FROM events").fetchall()[0][1]
        cur.execute(f"DESCRIBE SELECT count(*) FILTER (WHERE ({text})) FROM events")
    except duckdb.Error as exc:
        return first_line(exc)
    if kind != "BOOLEAN":
        return f"expected a boolean expression, got one of type {kind}"
    return None


def _syntax_problem(cur: duckdb.DuckDBPyConnection, text: str) -> str | None:
    """Why `text` is not one plain boolean expression, before DuckDB binds it; else None."""
    if not text.strip():
        return "expected a boolean SQL expression, got an empty one"
    try:
        tokens = duckdb.tokenize(text)
    except (duckdb.Error, RuntimeError) as exc:
        return first_line(exc)
    kinds = {token_type for _, token_type in tokens}
    if duckdb.token_type.comment in kinds:
        return "comments are not allowed in a predicate"
    # a token's text runs to the next token's start (tokens come in order of position)
    ends = [position for position, _ in tokens[1:]] + [len(text)]
    for (position, token_type), end in zip(tokens, ends, strict=True):
        if token_type != duckdb.token_type.string_const and ";" in text[position:end]:
            return "expected a single expression, found ';'"
    tree = _parse_tree(cur, text)
    if "error" in tree:
        return str(tree["error"])
    return _tree_problem(tree["expression"])


def _parse_tree(cur: duckdb.DuckDBPyConnection, text: str) -> dict[str, Any]:
    """DuckDB's parse of `SELECT (text)`, checked to be that one expression and nothing more."""
    (serialized,) = cur.execute("SELECT json_serialize_sql($1)", [f"SELECT ({text})"]).fetchall()[0]
    parsed = json.loads(serialized)
    if parsed.get("error"):
        return {"error": str(parsed.get("error_message", "cannot parse the expression"))}
    statements = parsed.get("statements", [])
    node = statements[0].get("node", {}) if len(statements) == 1 else {}
    if (
        len(statements) != 1
        or node.get("type") != "SELECT_NODE"
        or len(node.get("select_list", [])) != 1
        or node.get("from_table", {}).get("type") != "EMPTY"
        or node.get("where_clause") is not None
        or node.get("group_expressions")
        or node.get("having") is not None
        or node.get("qualify") is not None
        or node.get("modifiers")
        or node.get("cte_map", {}).get("map")
    ):
        return {"error": "expected a single expression"}
    return {"expression": node["select_list"][0]}


def _tree_problem(node: object) -> str | None:
    if isinstance(node, list):
        for item in node:
            problem = _tree_problem(item)
            if problem is not None:
                return problem
        return None
    if not isinstance(node, dict):
        return None
    kind = node.get("class")
    if kind in _FORBIDDEN_CLASSES:
        what = {"SUBQUERY": "subqueries", "WINDOW": "window functions", "STAR": "`*`"}
        return f"not allowed in a predicate: {what.get(str(kind), str(kind).lower())}"
    if kind == "FUNCTION" and str(node.get("function_name", "")).lower() in _FORBIDDEN_FUNCTIONS:
        return f"function {node['function_name']}() is not allowed in a predicate"
    for value in node.values():
        problem = _tree_problem(value)
        if problem is not None:
            return problem
    return None
