"""The predicate sandbox: an `EventsRatio` predicate must be one plain boolean expression.

Predicates come from spec files and are pasted into SQL, so before one reaches a query it is
checked to be a single boolean expression over event columns: no `;`, no comments, no
subqueries, window functions or `*`, and no function that reads the environment or the
clock. Checks run on DuckDB's own tokens and parse tree, then DuckDB binds the expression
against `events`, so its verdict on types and column names is the one that counts.
"""

from __future__ import annotations

import json
from typing import Any, Final

import duckdb

from srekit.sources.events.sql import first_line

__all__ = ["predicate_problem"]

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
    return _syntax_problem(cur, text) or _bind_problem(cur, text)


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
    positions = [position for position, _ in tokens]
    for position, token_type in tokens:
        if token_type == duckdb.token_type.string_const:
            continue
        following = [p for p in positions if p > position]
        piece = text[position : following[0] if following else len(text)]
        if ";" in piece:
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
