"""OpenSLO `openslo/v1` specs → core SLOs: `schema` validates, `convert` resolves and converts.

All `openslo/v1` documents of a spec set are read together, so references (`indicatorRef`,
`alertPolicyRef`, `conditionRef`, `targetRef`, `metricSourceRef`) may cross files. Every object
is validated, referenced or not, as strictly as the reference SDK (OpenSLO/go-sdk) decodes:
unknown fields are refused, and a reference to an object that does not exist is an error naming
the referencing field. Where srekit departs from the SDK, or the spec leaves a choice, it is
because of what srekit computes:

* Names: the spec asks for RFC 1123 labels, yet its own README examples are named
  `AlertPolicy` and `OnCallDevopsMailNotification`, and it encourages longer names. srekit
  accepts letters of either case, digits, `-`, `.` and `_` (1-255 characters, alphanumeric at
  both ends) and refuses whitespace or `/`, which would break rule names and URLs.
* `op`/`value` on an objective of a `ratioMetric` SLI: the SDK forbids `op` there, but the spec
  repository's own examples use it; it has no meaning for a ratio, so it is accepted and ignored.
* Durations: `m` is minutes, `M` months, `Q` quarters, `Y` years. A calendar window in `M`/`Q`/`Y`
  (or `d`/`w`) is that many calendar units in `calendar.timeZone`. A rolling window (or a time
  slice) in `M`/`Q`/`Y` has no fixed length, so it counts 30, 90 and 365 days as the SDK does:
  write `30d` to make that explicit. A calendar window in minutes or hours must be whole days.
* `calendar.startTime` is checked (`YYYY-MM-DD HH:MM:SS`) but srekit aligns calendar periods on
  their natural boundaries in the time zone (midnight, Monday, the 1st of the month/quarter/year).
* Defaults where the spec's own examples omit a field: `budgetingMethod` Occurrences, `timeWindow`
  a rolling 30 days (the SRE Workbook's window, and Sloth's default), `calendar.timeZone` UTC,
  an alert condition's `op` none (the spec README's condition examples have none).
* Each objective becomes one core SLO, named `<slo>` when there is one objective and
  `<slo>-<displayName as a slug, or the objective's index>` otherwise. Objectives carrying their
  own indicator (composite SLOs) are each evaluated alone; `compositeWeight` is accepted, unused.
* Queries: a metric source's type comes from `metricSource.type` or the referenced DataSource's
  `spec.type`. Prometheus (any case) needs `spec.query`, a PromQL expression. Other types
  (Datadog, CloudWatch, ...) parse, so a whole OpenSLO repository validates, and their query
  text (or, without a `query`, the source spec as JSON) is kept in the same indicator types;
  `srekit status` and `srekit rules` only work for Prometheus sources, and
  `metric_source_types` tells which SLOs use which source.
* `counter` does not change the mapping: a PromQL query is either a `{{.window}}` template or a
  bare counter selector that srekit wraps in `increase()`; write a gauge as a template.
* Alerting: with exactly one alert policy its name becomes the alert name; conditions and
  targets are validated but srekit derives burn-rate alerts from the objective itself.

`openslo.com/v2alpha` is refused with a clear message: its objects are shaped differently
(`sli`, `dataSourceRef`, `serviceRef`) and the version is still alpha.
"""

from srekit.spec.openslo.convert import metric_source_types, parse_documents
from srekit.spec.openslo.schema import API_VERSION, KINDS

__all__ = ["API_VERSION", "KINDS", "metric_source_types", "parse_documents"]
