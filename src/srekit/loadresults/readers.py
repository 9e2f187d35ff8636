"""k6 and Locust results, read into one `LoadSummary`; every problem a SpecError naming the
file, the field and what was expected.

k6 writes two JSON shapes. `--summary-export` (the classic shape) puts each metric's figures
directly under `metrics.<name>` (`avg`, `p(95)`, `count`, `rate`, and for rate metrics `value`,
`passes`, `fails`), and its thresholds as `{"<expression>": <bool>}` where **true means the
threshold was crossed** (failed). The `handleSummary` data puts them under
`metrics.<name>.values` with a `type`, and thresholds as `{"<expression>": {"ok": <bool>}}`.
A sub-metric is named `http_req_duration{name:/checkout}`.

srekit's own run document (`srekit load run -o run.json`, docs/load.md) is k6's classic shape
per metric (`metrics.<key>` with `count`, `p(95)`, `p(99)`, ..., read from the run's HDR
histograms) beside the histograms themselves (`histogram_unit`, `series`), its thresholds a list
of `{"metric", "threshold", "passed"}`: `srekit load run --record` stores a run through the same
reader, so a run recorded directly and one imported from its file are the same summary.

Locust's `*_stats.csv` has one row per request name and an `Aggregated` row; its percentile
columns (`50%` ... `100%`) are rounded to two significant digits, so they are marked
`rounded` and the gate widens its noise floor by that much.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

from srekit.core.load_gate import DURATION, FAILED, REQUESTS, LoadSummary, MetricSummary, Threshold
from srekit.errors import SpecError

__all__ = ["FILE_BYTES", "parse_results", "read_results", "srekit_summary"]

FILE_BYTES = (
    16 * 1024 * 1024
)  # a summary is kilobytes; a stats CSV with thousands of names, a few MB
_K6_TREND = {"avg": "avg", "min": "min", "med": "med", "max": "max"}
_K6_PERCENTILES = {"p(90)": "p90", "p(95)": "p95", "p(99)": "p99"}
_LOCUST_REQUIRED = ("Type", "Name", "Request Count", "Failure Count", "Requests/s")
_LOCUST_STATS = {
    "avg": ("Average Response Time", "Average"),
    "min": ("Min Response Time", "Min"),
    "max": ("Max Response Time", "Max"),
    "med": ("Median Response Time", "50%"),
    "p90": ("90%",),
    "p95": ("95%",),
    "p99": ("99%",),
}


def read_results(path: Path) -> LoadSummary:
    """Read the results file at `path` (k6 JSON or Locust CSV, told apart by content)."""
    file = str(path)
    try:
        with path.open("rb") as stream:
            raw = stream.read(FILE_BYTES + 1)
    except OSError as error:
        raise SpecError(f"cannot read: {error.strerror or error}", file=file) from None
    return parse_results(raw, file=file)


def parse_results(raw: bytes, *, file: str) -> LoadSummary:
    """Parse results uploaded or read from `file` (the name errors are reported under)."""
    if len(raw) > FILE_BYTES:
        raise SpecError(f"expected at most {FILE_BYTES} bytes", file=file)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SpecError(
            f"expected UTF-8 text, got {error.reason} at byte {error.start}", file=file
        ) from None
    if text.lstrip().startswith("{"):
        data = _json(text, file)
        if isinstance(data, dict) and "histogram_unit" in data:
            return srekit_summary(data, file=file)
        return _k6(data, file)
    if text.lstrip().startswith(("Type,", '"Type"')):
        return _locust(text, file)
    raise SpecError(
        "expected k6 JSON (--summary-export or handleSummary data) or Locust's *_stats.csv"
        " (a header starting with Type,Name)",
        file=file,
    )


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"expected finite numbers, got {name}")


def _json(text: str, file: str) -> Any:
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise SpecError(
            f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}", file=file
        ) from None
    except ValueError as error:
        raise SpecError(str(error), file=file) from None
    except RecursionError:
        raise SpecError("expected a k6 summary, got JSON nested too deeply", file=file) from None


def _number(value: Any, *, file: str, field: str, fraction: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SpecError(f"expected a number, got {_shown(value)}", file=file, field=field)
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise SpecError(
            f"expected a finite number >= 0, got {_shown(value)}", file=file, field=field
        )
    if fraction and number > 1:
        raise SpecError(f"expected a fraction in [0, 1], got {number:g}", file=file, field=field)
    return number


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, dict | list) else type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."


def _metric_name(key: str, file: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """`http_req_duration{name:/a,method:GET}` → the name and its tags."""
    if not key or any(ord(c) < 32 or ord(c) == 127 for c in key) or len(key) > 500:
        raise SpecError(
            f"expected a metric name of printable characters, got {_shown(key)}",
            file=file,
            field="metrics",
        )
    name, brace, rest = key.partition("{")
    if not brace:
        return key, ()
    if not rest.endswith("}"):
        raise SpecError("expected name{tag:value,...}", file=file, field=f"metrics.{key}")
    tags = []
    for part in rest[:-1].split(","):
        tag, colon, value = part.partition(":")
        if not colon or not tag:
            raise SpecError(
                f"expected tag:value in the sub-metric, got {part!r}",
                file=file,
                field=f"metrics.{key}",
            )
        tags.append((tag.strip(), value.strip()))
    return name, tuple(tags)


def srekit_summary(data: Any, *, file: str) -> LoadSummary:
    """srekit's own run document (`flows.load.report_document`) as a summary, tool `srekit`:
    its metrics read as k6's classic shape, its thresholds from the list it keeps them in."""
    k6 = _k6(data, file)
    raw = data.get("thresholds") or []
    if not isinstance(raw, list):
        raise SpecError(f"expected a list, got {_shown(raw)}", file=file, field="thresholds")
    thresholds = []
    for index, item in enumerate(raw):
        field = f"thresholds[{index}]"
        if not (
            isinstance(item, dict)
            and isinstance(item.get("metric"), str)
            and isinstance(item.get("threshold"), str)
            and isinstance(item.get("passed"), bool)
        ):
            raise SpecError(
                "expected {metric, threshold, passed: true|false}", file=file, field=field
            )
        _metric_name(item["metric"], file)
        thresholds.append(Threshold(item["metric"], item["threshold"][:200], item["passed"]))
    duration = data.get("duration_s")
    duration_s = None if duration is None else _number(duration, file=file, field="duration_s")
    return LoadSummary("srekit", k6.metrics, tuple(thresholds), duration_s)


def _k6(data: Any, file: str) -> LoadSummary:
    if not isinstance(data, dict) or not isinstance(data.get("metrics"), dict):
        raise SpecError("expected an object with metrics", file=file, field="metrics")
    metrics: list[MetricSummary] = []
    thresholds: list[Threshold] = []
    for key, body in data["metrics"].items():
        field = f"metrics.{key}"
        if not isinstance(body, dict):
            raise SpecError(f"expected an object, got {_shown(body)}", file=file, field=field)
        name, tags = _metric_name(key, file)
        summary_shape = "values" in body
        values = body["values"] if summary_shape else body
        if not isinstance(values, dict):
            raise SpecError(
                f"expected an object, got {_shown(values)}", file=file, field=f"{field}.values"
            )
        where = f"{field}.values" if summary_shape else field
        metrics.append(_k6_metric(name, tags, values, file=file, field=where))
        thresholds.extend(_k6_thresholds(key, body.get("thresholds"), summary_shape, file))
    duration_s = None
    state = data.get("state")
    if isinstance(state, dict) and "testRunDurationMs" in state:
        duration_s = (
            _number(state["testRunDurationMs"], file=file, field="state.testRunDurationMs") / 1000
        )
    return LoadSummary("k6", tuple(metrics), tuple(thresholds), duration_s)


def _k6_metric(
    name: str, tags: tuple[tuple[str, str], ...], values: dict[str, Any], *, file: str, field: str
) -> MetricSummary:
    figures: dict[str, float] = {}
    for source, target in {**_K6_TREND, **_K6_PERCENTILES}.items():
        if source in values:
            figures[target] = _number(values[source], file=file, field=f"{field}.{source}")
    count = rate = None
    if "passes" in values or "fails" in values:
        # a rate metric: `passes` counts the non-zero values (failed requests for http_req_failed)
        passes = _number(values.get("passes", 0), file=file, field=f"{field}.passes")
        fails = _number(values.get("fails", 0), file=file, field=f"{field}.fails")
        count = passes + fails
        stated = values.get("rate", values.get("value"))
        rate = (
            _number(stated, file=file, field=f"{field}.rate", fraction=True)
            if stated is not None
            else (passes / count if count else None)
        )
    else:
        if "count" in values:
            count = _number(values["count"], file=file, field=f"{field}.count")
        if "rate" in values:
            rate = _number(values["rate"], file=file, field=f"{field}.rate")
    if name == FAILED and rate is None and "value" in values:
        rate = _number(values["value"], file=file, field=f"{field}.value", fraction=True)
    return MetricSummary(
        name=name,
        tags=tags,
        count=count,
        rate=rate,
        avg=figures.get("avg"),
        min=figures.get("min"),
        med=figures.get("med"),
        max=figures.get("max"),
        p90=figures.get("p90"),
        p95=figures.get("p95"),
        p99=figures.get("p99"),
    )


def _k6_thresholds(key: str, raw: Any, summary_shape: bool, file: str) -> list[Threshold]:
    if raw is None:
        return []
    field = f"metrics.{key}.thresholds"
    if not isinstance(raw, dict):
        raise SpecError(f"expected an object, got {_shown(raw)}", file=file, field=field)
    found = []
    for expression, result in raw.items():
        if summary_shape:
            ok = result.get("ok") if isinstance(result, dict) else None
            if not isinstance(ok, bool):
                raise SpecError(
                    f'expected {{"ok": true|false}}, got {_shown(result)}',
                    file=file,
                    field=f"{field}.{expression}",
                )
        else:
            if not isinstance(result, bool):
                raise SpecError(
                    f"expected true (crossed) or false (held), got {_shown(result)}",
                    file=file,
                    field=f"{field}.{expression}",
                )
            ok = not result  # --summary-export: true means the threshold FAILED
        found.append(Threshold(key, str(expression)[:200], ok))
    return found


def _locust(text: str, file: str) -> LoadSummary:
    try:
        rows = list(csv.reader(io.StringIO(text), strict=True))
    except csv.Error as error:
        raise SpecError(f"invalid CSV: {error}", file=file) from None
    header = rows[0]
    missing = [column for column in _LOCUST_REQUIRED if column not in header]
    if missing:
        raise SpecError(
            f"expected Locust's stats columns, missing {', '.join(missing)}",
            file=file,
            field="header",
        )
    metrics: list[MetricSummary] = []
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise SpecError(
                f"expected {len(header)} columns, got {len(row)}", file=file, field=f"row {number}"
            )
        metrics.extend(_locust_row(dict(zip(header, row, strict=True)), file, number))
    if not any(metric.name == REQUESTS and not metric.tags for metric in metrics):
        raise SpecError("expected an Aggregated row", file=file, field="Name")
    return LoadSummary("locust", tuple(metrics))


def _locust_cell(
    row: dict[str, str], names: tuple[str, ...], file: str, number: int
) -> float | None:
    column = names[0] if len(names) == 1 else next((n for n in names if n in row), None)
    text = row.get(column, "") if column is not None else ""
    if text in ("N/A", ""):
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan  # refused below, with the text shown
    if math.isfinite(value) and value >= 0:
        return value  # the common case, without building the message
    where = f"row {number}, column {column!r}"
    if math.isnan(value) and text.strip().lower() != "nan":
        raise SpecError(f"expected a number, got {_shown(text)}", file=file, field=where)
    return _number(value, file=file, field=where)


def _locust_row(row: dict[str, str], file: str, number: int) -> list[MetricSummary]:
    name = row["Name"]
    if any(ord(c) < 32 or ord(c) == 127 for c in name) or len(name) > 500:
        raise SpecError(
            "expected a request name of printable characters",
            file=file,
            field=f"row {number}, column 'Name'",
        )
    tags: tuple[tuple[str, str], ...] = ()
    if not (name == "Aggregated" and not row["Type"]):
        tags = (("method", row["Type"][:40]), ("name", name))
    requests = _locust_cell(row, ("Request Count",), file, number) or 0.0
    failures = _locust_cell(row, ("Failure Count",), file, number) or 0.0
    if failures > requests:
        raise SpecError(
            f"expected Failure Count <= Request Count, got {failures:g} > {requests:g}",
            file=file,
            field=f"row {number}",
        )
    figures = {
        stat: _locust_cell(row, columns, file, number) for stat, columns in _LOCUST_STATS.items()
    }
    return [
        MetricSummary(DURATION, tags, count=requests, rounded=True, **figures),
        MetricSummary(
            REQUESTS,
            tags,
            count=requests,
            rate=_locust_cell(row, ("Requests/s",), file, number),
        ),
        MetricSummary(FAILED, tags, count=requests, rate=failures / requests if requests else None),
    ]
