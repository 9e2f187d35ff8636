"""PromQL text for SLIs: window templates, counter wrapping, histogram bounds, batching labels.

Pure string building, shared by the Prometheus source (queries) and the rule generator
(recording rules), so an SLI means the same thing in both. No I/O here.

How an indicator's query becomes "events in window w":

- a template holding `{{.window}}` is used as written, the window substituted (`5m`, `30d`);
- a bare counter selector (`http_requests_total{code=~"5.."}`) becomes
  `sum(increase(<selector>[w]))`;
- any other expression becomes the subquery `sum(increase((<expr>)[w:1m]))`: the expression is
  sampled every minute and the increase taken over those points. That is exact for a sum of
  counters without resets and approximate otherwise (a reset of one summed counter looks like a
  reset of the sum), so prefer a selector or a template.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from srekit.core.slo import PromErrorRatio, PromLatency, PromRatio, PromThreshold, ThresholdOp
from srekit.core.window import format_duration

__all__ = [
    "BATCH_LABEL",
    "ERROR_RATIO_METRIC_PREFIX",
    "PART_LABEL",
    "RECORDED_RATIO_WINDOWS_S",
    "ROLLUP_GOOD_METRIC",
    "ROLLUP_INTERVAL_S",
    "ROLLUP_SERVICE_LABEL",
    "ROLLUP_SLO_LABEL",
    "ROLLUP_TOTAL_METRIC",
    "SUBQUERY_STEP",
    "WINDOW_PLACEHOLDER",
    "RollupSpan",
    "counter_delta",
    "counter_increase",
    "error_ratio_expr",
    "error_ratio_metric",
    "escape_string",
    "exact_rollups",
    "good_events_expr",
    "is_counter_selector",
    "is_template",
    "join_or",
    "labelled",
    "latency_bucket_selector",
    "latency_exprs",
    "le_regex",
    "range_before",
    "ratio_exprs",
    "recorded_ratio_query",
    "regex_literal",
    "render_template",
    "rollup_coverage_query",
    "rollup_delta_exprs",
    "rollup_exprs",
    "rollup_instants_query",
    "rollup_span",
    "rollup_sum_query",
    "threshold_aggregate",
    "threshold_slice_exprs",
]

WINDOW_PLACEHOLDER = "{{.window}}"
SUBQUERY_STEP = "1m"

BATCH_LABEL = "srekit_slo"
PART_LABEL = "srekit_part"

ROLLUP_INTERVAL_S = 3600
ROLLUP_GOOD_METRIC = "srekit_slo:good_events:increase1h"
ROLLUP_TOTAL_METRIC = "srekit_slo:total_events:increase1h"
ROLLUP_SERVICE_LABEL = "srekit_service"
ROLLUP_SLO_LABEL = "srekit_slo"

# srekit's rules record `srekit_slo:error_ratio:rate<w>` from raw series for these windows at
# every evaluation (rules.prometheus.RECORDED_WINDOWS_S, which a test keeps equal to this).
ERROR_RATIO_METRIC_PREFIX = "srekit_slo:error_ratio:rate"
RECORDED_RATIO_WINDOWS_S: tuple[int, ...] = (300, 1800, 3600, 7200, 21600)
# Above this many characters the service matcher is left out (the query then reads every
# SLO's recordings): a request body stays far below Prometheus's form limit either way.
_MAX_MATCHER_CHARS = 100_000

_METRIC_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL_NAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
_STRING = r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|`[^`]*`"
_MATCHER = rf"\s*{_LABEL_NAME}\s*(?:=~|!~|!=|=)\s*(?:{_STRING})\s*"
_MATCHERS = rf"\{{(?:{_MATCHER}(?:,{_MATCHER})*,?)?\s*\}}"
_SELECTOR = re.compile(rf"\s*(?:{_METRIC_NAME}\s*(?:{_MATCHERS})?|{_MATCHERS})\s*", re.DOTALL)

_COMPARISON: dict[ThresholdOp, str] = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


def is_template(query: str) -> bool:
    """True when the query holds `{{.window}}` and so already says how to count over a window."""
    return WINDOW_PLACEHOLDER in query


def render_template(query: str, window_s: int) -> str:
    """The template with every `{{.window}}` replaced by the window's Prometheus duration."""
    return query.replace(WINDOW_PLACEHOLDER, format_duration(window_s))


@cache  # rule generation asks this of the same queries once per window
def is_counter_selector(query: str) -> bool:
    """True for a bare selector: a metric name and/or `{matchers}`, nothing else."""
    return _SELECTOR.fullmatch(query) is not None


def counter_increase(query: str, window_s: int) -> str:
    """Events in the `window_s` seconds before the evaluation time (see the module docstring)."""
    if is_template(query):
        return render_template(query, window_s).strip()
    window = format_duration(window_s)
    if is_counter_selector(query):
        return f"sum(increase({query.strip()}[{window}]))"
    return f"sum(increase(({query.strip()})[{window}:{SUBQUERY_STEP}]))"


def _ms_duration(ms: int) -> str:
    return format_duration(ms // 1000) if ms % 1000 == 0 else f"{ms}ms"


def _offset(ms: int) -> str:
    return f" offset {_ms_duration(ms)}" if ms else ""


def counter_delta(selector: str, *, length_ms: int, offset_ms: int = 0) -> str:
    """Events of a counter selector since the previous rollup, without extrapolation.

    Per series: the last sample in the `length_ms` before `t - offset_ms`, minus the last sample
    in the hour before that span. Every hourly rollup takes its "before" sample exactly where
    the previous rollup took its "now" sample, so consecutive rollups add up to the counter's
    exact rise, with no gap between hours and no extrapolation (`increase()` estimates the
    interval between the hours' samples and stretches each hour's ends). A series with a reset
    around the span, or without a sample in the hour before it, falls back to `increase()`
    (approximate, only there).
    """
    query = selector.strip()
    length = _ms_duration(length_ms)
    hour = format_duration(ROLLUP_INTERVAL_S)
    now, before = _offset(offset_ms), _offset(offset_ms + length_ms)
    around = _ms_duration(length_ms + ROLLUP_INTERVAL_S * 1000)
    latest = f"last_over_time({query}[{length}]{now})"
    previous = f"last_over_time({query}[{hour}]{before})"
    return (
        f"sum(\n  ({latest} - {previous})\n  unless (resets({query}[{around}]{now}) > 0)"
        f"\n  or increase({query}[{length}]{now})\n)"
    )


def exact_rollups(indicator: PromRatio | PromLatency) -> bool:
    """True when the rollups of this indicator count events exactly (bare counter selectors).

    Templates and other expressions still get rollups (for the 1d/3d alert ratios), but their
    long windows are read raw: what their hourly values add up to is theirs to say.
    """
    if isinstance(indicator, PromLatency):
        return True
    queries = (indicator.good or indicator.bad or "", indicator.total)
    return all(not is_template(q) and is_counter_selector(q) for q in queries)


def rollup_delta_exprs(
    indicator: PromRatio | PromLatency, *, length_ms: int, offset_ms: int = 0
) -> tuple[str, str]:
    """(good or bad, total) `counter_delta`s of an indicator with `exact_rollups`."""
    if isinstance(indicator, PromLatency):
        selectors = _latency_selectors(indicator)
    else:
        selectors = (indicator.good or indicator.bad or "", indicator.total)
    numerator, total = (
        counter_delta(s, length_ms=length_ms, offset_ms=offset_ms) for s in selectors
    )
    return numerator, total


def rollup_exprs(indicator: PromRatio | PromLatency) -> tuple[str, str]:
    """(good, total) events of the hour before each hourly rollup evaluation."""
    hour_ms = ROLLUP_INTERVAL_S * 1000
    if isinstance(indicator, PromRatio) and not exact_rollups(indicator):
        good = good_events_expr(indicator, ROLLUP_INTERVAL_S)
        return good, ratio_exprs(indicator, ROLLUP_INTERVAL_S)[1]
    numerator, total = rollup_delta_exprs(indicator, length_ms=hour_ms)
    if isinstance(indicator, PromRatio) and indicator.bad is not None:
        return _good_from_bad(numerator, total), total
    return numerator, total


def _good_from_bad(bad: str, total: str) -> str:
    """Good events as total − bad, a missing bad series counting as none (see below)."""
    return f"({total}) - (({bad}) or vector(0))"


def ratio_exprs(indicator: PromRatio, window_s: int) -> tuple[str, str]:
    """(good or bad, total) event expressions; which of good/bad is the indicator's business."""
    numerator = indicator.good if indicator.good is not None else indicator.bad
    assert numerator is not None, "PromRatio checks that it has exactly one of good and bad"
    return counter_increase(numerator, window_s), counter_increase(indicator.total, window_s)


def good_events_expr(indicator: PromRatio, window_s: int) -> str:
    """One expression for good events: total − bad when the indicator counts bad ones.

    A missing bad series counts as zero bad events (`or vector(0)`), as a service without any
    errors yet has no `code="500"` series at all. Recording rules use this; the source queries
    bad and total separately instead, which costs one evaluation of `total` less.
    """
    numerator, total = ratio_exprs(indicator, window_s)
    if indicator.good is not None:
        return numerator
    return _good_from_bad(numerator, total)


def error_ratio_expr(indicator: PromErrorRatio, window_s: int) -> str:
    """The raw error ratio over the window (Sloth `raw`): the template rendered."""
    return render_template(indicator.error_ratio, window_s).strip()


def _plain_digits(value: float) -> tuple[str, str]:
    """Integer and fraction digits of the shortest decimal spelling of a positive float."""
    text = format(Decimal(repr(value)), "f")
    integer, _, fraction = text.partition(".")
    return integer.lstrip("0"), fraction.rstrip("0")


@cache  # a handful of bucket bounds serve thousands of latency SLOs
def le_regex(threshold_s: float) -> str:
    """A regular expression matching the decimal spellings of the bucket bound `threshold_s`.

    Client libraries spell bounds differently: Go writes `1` and `1e+06`, Python `1.0` and
    `1000000.0`, some `1.000` or `1E6`. All write the shortest digits that round-trip; the
    regex accepts those digits in fixed-point (optional leading zeros, trailing fraction
    zeros) and scientific notation (one digit before the point, any exponent padding). It
    uses `[.]` rather than `\\.` so it can sit in a PromQL string without escaping, and only
    syntax shared by RE2 and Python's `re`.
    """
    if not math.isfinite(threshold_s) or threshold_s <= 0:
        raise ValueError(f"expected a positive, finite bucket bound, got {threshold_s!r}")
    integer, fraction = _plain_digits(threshold_s)
    fixed = f"0*{integer}" + (f"[.]{fraction}0*" if fraction else "([.]0*)?")
    if not integer:  # 0.25: `0.25`, `.25`, `00.250`
        fixed = f"0*[.]{fraction}0*"
    digits = (integer + fraction).lstrip("0").rstrip("0")
    exponent = len(integer) - 1 if integer else -(len(fraction) - len(fraction.lstrip("0")) + 1)
    mantissa = "0*" + digits[0] + (f"[.]{digits[1:]}0*" if len(digits) > 1 else "([.]0*)?")
    if exponent > 0:
        power = f"[+]?0*{exponent}"
    elif exponent < 0:
        power = f"-0*{-exponent}"
    else:
        power = "[+-]?0+"
    return f"{fixed}|{mantissa}[eE]{power}"


def _with_matchers(selector: str, *matchers: str) -> str:
    inner = ",".join(part for part in (selector.strip(), *matchers) if part)
    return "{" + inner + "}"


def latency_bucket_selector(indicator: PromLatency) -> str:
    """`<metric>_bucket{<selector>}`, every bound: what to list when the threshold is missing."""
    return f"{indicator.metric}_bucket{_with_matchers(indicator.selector)}"


def latency_exprs(indicator: PromLatency, window_s: int) -> tuple[str, str]:
    """(good, total) for a histogram: the cumulative bucket at the threshold, and `_count`."""
    window = format_duration(window_s)
    bucket, count = _latency_selectors(indicator)
    return f"sum(increase({bucket}[{window}]))", f"sum(increase({count}[{window}]))"


def _latency_selectors(indicator: PromLatency) -> tuple[str, str]:
    """The bucket at the threshold (every spelling of the bound) and `_count`."""
    le = f'le=~"{le_regex(indicator.threshold_s)}"'
    return (
        f"{indicator.metric}_bucket{_with_matchers(indicator.selector, le)}",
        f"{indicator.metric}_count{_with_matchers(indicator.selector)}",
    )


def threshold_aggregate(indicator: PromThreshold) -> str:
    """The query reduced to its worst series: max for an upper bound, min for a lower one."""
    worst = "max" if indicator.op in ("lt", "lte") else "min"
    return f"{worst}({indicator.query.strip()})"


def threshold_slice_exprs(indicator: PromThreshold, window_s: int, slice_s: int) -> tuple[str, str]:
    """(good slices, slices with data) in the window, sampling the query at each slice end.

    Subquery steps are aligned to multiples of the slice since the epoch, like `slices()`.
    """
    value = threshold_aggregate(indicator)
    comparison = f"{value} {_COMPARISON[indicator.op]} bool {indicator.value!r}"
    window, step = range_before(window_s), format_duration(slice_s)
    return (
        f"sum_over_time(({comparison})[{window}:{step}])",
        f"count_over_time(({value})[{window}:{step}])",
    )


def range_before(window_s: int) -> str:
    """A range holding the samples of the last `window_s` seconds, not the one at its start.

    Prometheus 2.x ranges include both ends, so `x[1d]` over hourly samples holds 25 of them;
    one millisecond less holds 24 on 2.x and 3.x alike.
    """
    return f"{window_s * 1000 - 1}ms"


def escape_string(value: str) -> str:
    """A PromQL double-quoted string literal holding `value`."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def labelled(expr: str, slo_id: str, part: str) -> str:
    """`expr` summed to one series labelled with the SLO id and the part (`good@30d`).

    `label_replace` expands `$1` in its replacement, so a literal `$` is doubled.
    """
    series = f"sum({expr})"
    for name, value in ((BATCH_LABEL, slo_id), (PART_LABEL, part)):
        replacement = escape_string(value.replace("$", "$$"))
        series = f'label_replace({series}, "{name}", {replacement}, "", "")'
    return series


def join_or(exprs: list[str]) -> str:
    """Labelled expressions joined with `or`: one query, one result series per expression.

    The `or`s nest as a balanced tree: Prometheus matches each `or`'s right side against all
    of its left side, so a flat chain of n costs n²/2 matches (200 parts: 1.5–2× slower).
    """
    if not exprs:
        raise ValueError("nothing to join")
    if len(exprs) <= 2:
        return " or ".join(exprs)
    middle = len(exprs) // 2
    return f"({join_or(exprs[:middle])}) or ({join_or(exprs[middle:])})"


@dataclass(frozen=True)
class RollupSpan:
    """How hourly rollups cover a window (start, end], and the raw pieces that make it exact.

    The rollups inside the window count the events of (first − 1h, last]: `tail_ms` after the
    last rollup are missing, and `head_ms` before the window's start are too many.
    """

    rollups: int
    tail_ms: int
    head_ms: int


def rollup_span(*, end_ms: int, window_ms: int, last_rollup_ms: int) -> RollupSpan | None:
    """Where the rollups evaluated hourly up to `last_rollup_ms` cover the window, if at all."""
    start_ms = end_ms - window_ms
    if not start_ms < last_rollup_ms <= end_ms:
        return None
    interval_ms = ROLLUP_INTERVAL_S * 1000
    rollups = -(-(last_rollup_ms - start_ms) // interval_ms)  # instants after the start
    covered_from_ms = last_rollup_ms - rollups * interval_ms
    return RollupSpan(
        rollups=rollups, tail_ms=end_ms - last_rollup_ms, head_ms=start_ms - covered_from_ms
    )


def rollup_instants_query() -> str:
    """srekit's total-events rollups of the last two hours, with their sample timestamps."""
    return f"{ROLLUP_TOTAL_METRIC}[{format_duration(2 * ROLLUP_INTERVAL_S)}]"


def rollup_sum_query(metric: str, window_s: int) -> str:
    """Σ of hourly rollups over the window, per (service, slo): one series per SLO."""
    by = f"{ROLLUP_SERVICE_LABEL}, {ROLLUP_SLO_LABEL}"
    return f"sum by ({by}) (sum_over_time({metric}[{range_before(window_s)}]))"


def rollup_coverage_query(window_s: int) -> str:
    """How many hourly rollups the window holds per SLO (full coverage: window_s / 3600)."""
    by = f"{ROLLUP_SERVICE_LABEL}, {ROLLUP_SLO_LABEL}"
    window = range_before(window_s)
    return f"max by ({by}) (count_over_time({ROLLUP_TOTAL_METRIC}[{window}]))"


def error_ratio_metric(window_s: int) -> str:
    """The series srekit records a window's error ratio as: `srekit_slo:error_ratio:rate5m`."""
    return f"{ERROR_RATIO_METRIC_PREFIX}{format_duration(window_s)}"


def regex_literal(value: str) -> str:
    """A regular expression matching exactly `value`, in syntax RE2 (Prometheus) reads.

    Python escapes only non-alphanumeric characters, and RE2 reads any escaped non-word ASCII
    character as itself.
    """
    return re.escape(value)


def recorded_ratio_query(windows_s: Iterable[int], services: Collection[str] = ()) -> str:
    """One selector for srekit's recorded error ratios of several windows and services.

    Every recorded SLO answers with one series per window (`__name__` tells the window,
    `srekit_service`/`srekit_slo` the SLO), so the answer also says which SLOs have them. An
    instant query returns a sample only if it is at most the lookback delta (5 minutes by
    default) old, and a rule that stops producing a series marks it stale: what comes back is
    the latest evaluation, not an abandoned one.
    """
    names = sorted({error_ratio_metric(seconds) for seconds in windows_s})
    if not names:
        raise ValueError("no window to read")
    matchers = [f"__name__=~{escape_string('|'.join(regex_literal(n) for n in names))}"]
    wanted = "|".join(regex_literal(service) for service in sorted(set(services)))
    if wanted and len(wanted) <= _MAX_MATCHER_CHARS:
        matchers.append(f"{ROLLUP_SERVICE_LABEL}=~{escape_string(wanted)}")
    return "{" + ", ".join(matchers) + "}"
