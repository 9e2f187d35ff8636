"""Sloth specs → srekit SLOs, read the way Sloth reads them.

Three document kinds are Sloth input:

* `version: prometheus/v1` (Sloth's own format, snake_case fields);
* the Kubernetes CRD `apiVersion: sloth.slok.dev/v1`, `kind: PrometheusServiceLevel`
  (camelCase fields under `spec`, plus the object's `metadata` for the PrometheusRule output);
* OpenSLO `apiVersion: openslo/v1alpha` `kind: SLO` with `ratioMetrics` whose queries hold
  `{{.window}}`; each objective becomes one SLO named `<name>-<index>`, as Sloth does. `kind:
  Service` documents carry nothing Sloth uses and are skipped.

`parse_sloth_documents` keeps everything Sloth needs to render its rules byte for byte (the
objective as written, in percent; the k8s metadata; plugin references), `parse_documents` turns the
same specs into core `SLO`s. Validation follows Sloth's: names `^[A-Za-z0-9][-A-Za-z0-9_.]*
[A-Za-z0-9]$`, objective in (0, 100], one SLI kind, queries holding `{{.window}}`, an alert name
unless both alerts are disabled, Prometheus label names, non-empty label values, unique SLO ids.
Like Sloth (which decodes with yaml.v2, non-strict), unknown fields are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final, Literal

from srekit.core.names import name_problem
from srekit.core.slo import SLO, Alerting, AlertSpec, Indicator, PromErrorRatio, PromRatio
from srekit.core.window import RollingWindow
from srekit.errors import SpecError
from srekit.sloth.windows import DEFAULT_SLO_PERIOD_S
from srekit.spec.document import Document
from srekit.spec.validation import shown_value

__all__ = [
    "K8sMeta",
    "SlothAlert",
    "SlothPlugin",
    "SlothPluginChain",
    "SlothSLI",
    "SlothSLO",
    "SlothServiceLevel",
    "SlothSpecKind",
    "is_sloth_document",
    "parse_documents",
    "parse_sloth_documents",
    "render_window",
    "unsupported_sli_plugin",
]

SlothSpecKind = Literal["prometheus/v1", "sloth.slok.dev/v1", "openslo/v1alpha"]

_PROMETHEUS_V1: Final = "prometheus/v1"
_K8S_API_VERSION: Final = "sloth.slok.dev/v1"
_K8S_KIND = "PrometheusServiceLevel"
_OPENSLO_V1ALPHA: Final = "openslo/v1alpha"

_NAME = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9_.]*[A-Za-z0-9]$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_WINDOW_ACTION = re.compile(r"{{ *\.window *}}")
_ANY_ACTION = re.compile(r"{{.*?}}", re.DOTALL)

# Sloth's OpenSLO mapping: good/total events become a raw error-ratio query.
_OPENSLO_RAW_TEMPLATE = """
  1 - (
    (
      {good}
    )
    /
    (
      {total}
    )
  )
"""


@dataclass(frozen=True)
class SlothAlert:
    """One severity (page or ticket) as written: its own labels and annotations, not merged."""

    disabled: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SlothPlugin:
    """A reference to a Sloth SLO plugin (`slo_plugins.chain[]` / `plugins.chain[]`)."""

    id: str
    priority: int = 0
    config: Any = None


@dataclass(frozen=True)
class SlothPluginChain:
    """A plugin chain; `override_previous` drops the default plugins and the outer chains."""

    plugins: tuple[SlothPlugin, ...] = ()
    override_previous: bool = False
    path: str = ""


@dataclass(frozen=True)
class SlothSLI:
    """Exactly one of Sloth's SLI kinds.

    `events`: `error_query` and `total_query`; `raw`: `error_ratio_query`; `plugin`: a Go SLI
    plugin srekit cannot run. OpenSLO ratios are `raw` (Sloth renders them so) and also keep
    `good_query`/`total_query` so that srekit's own model gets a proper good/total ratio.
    """

    kind: Literal["events", "raw", "plugin"]
    error_query: str | None = None
    total_query: str | None = None
    error_ratio_query: str | None = None
    good_query: str | None = None
    plugin_id: str | None = None
    plugin_options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SlothSLO:
    """One SLO exactly as Sloth understands it; `objective` is in percent, as written (99.9)."""

    service: str
    name: str
    objective: float
    sli: SlothSLI
    labels: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    period_s: int | None = None
    alert_name: str = ""
    alert_labels: Mapping[str, str] = field(default_factory=dict)
    alert_annotations: Mapping[str, str] = field(default_factory=dict)
    page: SlothAlert = field(default_factory=SlothAlert)
    ticket: SlothAlert = field(default_factory=SlothAlert)
    plugins: SlothPluginChain = field(default_factory=SlothPluginChain)
    path: str = ""

    @property
    def id(self) -> str:
        """`<service>-<name>` (OpenSLO: `<service>-<metadata.name>-<index>`)."""
        return f"{self.service}-{self.name}"


@dataclass(frozen=True)
class K8sMeta:
    """The CRD's metadata, carried over to the PrometheusRule Sloth writes for it."""

    name: str
    namespace: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SlothServiceLevel:
    """One Sloth input document: its SLOs, its spec kind, and what the output form needs."""

    spec: SlothSpecKind
    slos: tuple[SlothSLO, ...]
    document: Document = field(compare=False, repr=False)
    k8s: K8sMeta | None = None
    plugins: SlothPluginChain = field(default_factory=SlothPluginChain)


def render_window(query: str, window: str) -> str:
    """Replace every `{{.window}}` action (spaces allowed inside) with `window` (`5m`)."""
    return _WINDOW_ACTION.sub(window, query)


def is_sloth_document(document: Document) -> bool:
    """Whether Sloth would try to read this document (Sloth, Sloth CRD or OpenSLO v1alpha)."""
    data = document.data
    return (
        "version" in data
        or data.get("apiVersion") == _K8S_API_VERSION
        or data.get("apiVersion") == _OPENSLO_V1ALPHA
    )


# --- small typed readers -------------------------------------------------------------------------


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _mapping(doc: Document, data: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise doc.error(_join(path, key), f"expected a mapping, got {_type_name(value)}")
    return value


def _type_name(value: object) -> str:
    return "a list" if isinstance(value, list) else type(value).__name__


def _mappings(
    doc: Document, items: Sequence[Any], path: str
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Each item of a list that must hold mappings, with its path (`slos[0]`)."""
    for index, item in enumerate(items):
        item_path = f"{path}[{index}]"
        if not isinstance(item, Mapping):
            raise doc.error(item_path, f"expected a mapping, got {_type_name(item)}")
        yield item_path, item


def _scalar_text(value: object) -> str | None:
    """A YAML scalar as yaml.v2 would decode it into a Go string field (None if not a scalar)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return None


def _string(doc: Document, data: Mapping[str, Any], key: str, path: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    text = _scalar_text(value)
    if text is None:
        raise doc.error(_join(path, key), f"expected a string, got {_type_name(value)}")
    return text


def _bool(doc: Document, data: Mapping[str, Any], key: str, path: str) -> bool:
    value = data.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise doc.error(_join(path, key), f"expected true or false, got {shown_value(value)}")
    return value


def _number(doc: Document, data: Mapping[str, Any], key: str, path: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise doc.error(_join(path, key), f"expected a number, got {shown_value(value)}")
    return float(value)


def _string_map(
    doc: Document, data: Mapping[str, Any], key: str, path: str, *, kind: str
) -> dict[str, str]:
    """A label or annotation map: Prometheus label names as keys, non-empty values."""
    where = _join(path, key)
    result: dict[str, str] = {}
    for name, value in _mapping(doc, data, key, path).items():
        name_text = str(name)
        if not _LABEL_NAME.match(name_text) or name_text == "__name__":
            raise doc.error(
                f"{where}.{name_text}",
                f"invalid {kind} name: expected a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)",
            )
        text = _scalar_text(value)
        if text is None:
            raise doc.error(f"{where}.{name_text}", f"expected a string, got {_type_name(value)}")
        if text == "":
            raise doc.error(f"{where}.{name_text}", f"{kind} values must not be empty")
        result[name_text] = text
    return result


def _merge(*maps: Mapping[str, str]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for one in maps:
        merged.update(one)
    return merged


def _check_name(doc: Document, value: str, where: str, what: str) -> None:
    if not value:
        raise doc.error(where, f"{what} is required")
    if not _NAME.match(value):
        raise doc.error(
            where,
            f"invalid {what} {value!r}: expected a name that starts and ends with a letter or "
            "digit and holds only letters, digits, '.', '_' and '-'",
        )


def _check_query(doc: Document, query: str, where: str) -> None:
    if not query.strip():
        raise doc.error(where, "a query template is required")
    if not _WINDOW_ACTION.search(query):
        raise doc.error(where, "the query template must hold the {{.window}} variable")
    for action in _ANY_ACTION.findall(query):
        if not _WINDOW_ACTION.fullmatch(action):
            raise doc.error(
                where, f"unsupported template action {action}: only {{{{.window}}}} is allowed"
            )


# --- plugins -------------------------------------------------------------------------------------


def _plugin_chain(doc: Document, data: Mapping[str, Any], key: str, path: str) -> SlothPluginChain:
    where = _join(path, key)
    raw = _mapping(doc, data, key, path)
    if not raw:
        return SlothPluginChain(path=where)
    override = _bool(doc, raw, "overridePrevious", where) or _bool(
        doc, raw, "override_previous", where
    )
    chain = raw.get("chain") or []
    if not isinstance(chain, list):
        raise doc.error(f"{where}.chain", f"expected a list, got {_type_name(chain)}")
    plugins: list[SlothPlugin] = []
    for item_path, item in _mappings(doc, chain, f"{where}.chain"):
        plugin_id = _string(doc, item, "id", item_path)
        if not plugin_id:
            raise doc.error(f"{item_path}.id", "a plugin id is required")
        priority = item.get("priority", 0)
        if isinstance(priority, bool) or not isinstance(priority, int):
            raise doc.error(f"{item_path}.priority", f"expected an integer, got {priority!r}")
        plugins.append(SlothPlugin(id=plugin_id, priority=priority, config=item.get("config")))
    if override and not plugins:
        raise doc.error(where, "overridePrevious is set but the chain holds no plugins")
    return SlothPluginChain(plugins=tuple(plugins), override_previous=override, path=where)


# --- Sloth prometheus/v1 and the CRD ------------------------------------------------------------


@dataclass(frozen=True)
class _Names:
    """Field names that differ between prometheus/v1 (snake_case) and the CRD (camelCase)."""

    error_query: str
    total_query: str
    error_ratio_query: str
    page_alert: str
    ticket_alert: str
    slo_plugins: str


_PROM_NAMES = _Names(
    "error_query", "total_query", "error_ratio_query", "page_alert", "ticket_alert", "slo_plugins"
)
_K8S_NAMES = _Names(
    "errorQuery", "totalQuery", "errorRatioQuery", "pageAlert", "ticketAlert", "sloPlugins"
)


def _sli(doc: Document, slo: Mapping[str, Any], path: str, names: _Names) -> SlothSLI:
    where = _join(path, "sli")
    raw_sli = _mapping(doc, slo, "sli", path)
    kinds = [kind for kind in ("events", "raw", "plugin") if raw_sli.get(kind) is not None]
    if not kinds:
        raise doc.error(where, "an SLI is required: set sli.events, sli.raw or sli.plugin")
    if len(kinds) > 1:
        raise doc.error(where, f"only one SLI kind is allowed, got {' and '.join(kinds)}")
    kind = kinds[0]
    body = _mapping(doc, raw_sli, kind, where)
    body_path = f"{where}.{kind}"
    if kind == "events":
        error_query = _string(doc, body, names.error_query, body_path)
        total_query = _string(doc, body, names.total_query, body_path)
        _check_query(doc, error_query, f"{body_path}.{names.error_query}")
        _check_query(doc, total_query, f"{body_path}.{names.total_query}")
        if error_query == total_query:
            raise doc.error(body_path, "the error and total queries must differ")
        return SlothSLI(kind="events", error_query=error_query, total_query=total_query)
    if kind == "raw":
        ratio_query = _string(doc, body, names.error_ratio_query, body_path)
        _check_query(doc, ratio_query, f"{body_path}.{names.error_ratio_query}")
        return SlothSLI(kind="raw", error_ratio_query=ratio_query)
    plugin_id = _string(doc, body, "id", body_path)
    if not plugin_id:
        raise doc.error(f"{body_path}.id", "an SLI plugin id is required")
    options = {
        str(key): _scalar_text(value) or ""
        for key, value in _mapping(doc, body, "options", body_path).items()
    }
    return SlothSLI(kind="plugin", plugin_id=plugin_id, plugin_options=options)


def _alert(doc: Document, alerting: Mapping[str, Any], key: str, path: str) -> SlothAlert:
    where = _join(path, key)
    body = _mapping(doc, alerting, key, path)
    return SlothAlert(
        disabled=_bool(doc, body, "disable", where),
        labels=_string_map(doc, body, "labels", where, kind="label"),
        annotations=_string_map(doc, body, "annotations", where, kind="annotation"),
    )


def _sloth_slo(
    doc: Document,
    slo: Mapping[str, Any],
    path: str,
    *,
    service: str,
    service_labels: Mapping[str, str],
    names: _Names,
) -> SlothSLO:
    name = _string(doc, slo, "name", path)
    _check_name(doc, name, _join(path, "name"), "SLO name")
    _check_name(doc, f"{service}-{name}", _join(path, "name"), "SLO id")
    objective = _number(doc, slo, "objective", path)
    if objective is None or not 0 < objective <= 100:
        raise doc.error(
            _join(path, "objective"),
            f"expected an objective in percent, > 0 and <= 100 (99.9), got {objective!r}",
        )
    labels = _string_map(doc, slo, "labels", path, kind="label")
    alerting_path = _join(path, "alerting")
    alerting = _mapping(doc, slo, "alerting", path)
    page = _alert(doc, alerting, names.page_alert, alerting_path)
    ticket = _alert(doc, alerting, names.ticket_alert, alerting_path)
    alert_name = _string(doc, alerting, "name", alerting_path)
    if not alert_name and not (page.disabled and ticket.disabled):
        raise doc.error(
            _join(alerting_path, "name"),
            "an alert name is required while page or ticket alerts are enabled (or set "
            f"{names.page_alert}.disable and {names.ticket_alert}.disable to true)",
        )
    return SlothSLO(
        service=service,
        name=name,
        objective=objective,
        sli=_sli(doc, slo, path, names),
        labels=_merge(service_labels, labels),
        description=_string(doc, slo, "description", path),
        alert_name=alert_name,
        alert_labels=_string_map(doc, alerting, "labels", alerting_path, kind="label"),
        alert_annotations=_string_map(
            doc, alerting, "annotations", alerting_path, kind="annotation"
        ),
        page=page,
        ticket=ticket,
        plugins=_plugin_chain(doc, slo, "plugins", path),
        path=path,
    )


def _sloth_group(
    doc: Document, spec: Mapping[str, Any], path: str, names: _Names
) -> tuple[tuple[SlothSLO, ...], SlothPluginChain]:
    service = _string(doc, spec, "service", path)
    _check_name(doc, service, _join(path, "service"), "service")
    service_labels = _string_map(doc, spec, "labels", path, kind="label")
    raw_slos = spec.get("slos")
    slos_path = _join(path, "slos")
    if not isinstance(raw_slos, list) or not raw_slos:
        raise doc.error(slos_path, "at least one SLO is required (a list under slos)")
    slos: list[SlothSLO] = []
    for slo_path, raw in _mappings(doc, raw_slos, slos_path):
        slos.append(
            _sloth_slo(
                doc, raw, slo_path, service=service, service_labels=service_labels, names=names
            )
        )
    return tuple(slos), _plugin_chain(doc, spec, names.slo_plugins, path)


def _parse_prometheus_v1(doc: Document) -> SlothServiceLevel:
    slos, plugins = _sloth_group(doc, doc.data, "", _PROM_NAMES)
    return SlothServiceLevel(spec=_PROMETHEUS_V1, slos=slos, document=doc, plugins=plugins)


def _parse_k8s(doc: Document) -> SlothServiceLevel:
    metadata = _mapping(doc, doc.data, "metadata", "")
    name = _string(doc, metadata, "name", "metadata")
    if not name:
        raise doc.error("metadata.name", "a PrometheusServiceLevel needs a metadata.name")
    meta = K8sMeta(
        name=name,
        namespace=_string(doc, metadata, "namespace", "metadata"),
        labels={
            str(k): _scalar_text(v) or ""
            for k, v in _mapping(doc, metadata, "labels", "metadata").items()
        },
        annotations={
            str(k): _scalar_text(v) or ""
            for k, v in _mapping(doc, metadata, "annotations", "metadata").items()
        },
    )
    spec = _mapping(doc, doc.data, "spec", "")
    slos, plugins = _sloth_group(doc, spec, "spec", _K8S_NAMES)
    return SlothServiceLevel(
        spec=_K8S_API_VERSION, slos=slos, document=doc, k8s=meta, plugins=plugins
    )


# --- OpenSLO v1alpha -----------------------------------------------------------------------------

_RFC1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def _check_v1alpha_service(doc: Document) -> None:
    """Sloth skips Service documents; srekit still holds their names to v1alpha's RFC 1123 rule."""
    metadata = _mapping(doc, doc.data, "metadata", "")
    name = _string(doc, metadata, "name", "metadata")
    if not _RFC1123_LABEL.match(name):
        raise doc.error(
            "metadata.name",
            f"expected an RFC 1123 label (lower-case letters, digits and '-', starting and "
            f"ending with a letter or digit, e.g. 'my-name'), got {name!r}",
        )


def _openslo_query(doc: Document, ratio: Mapping[str, Any], key: str, path: str) -> str:
    where = _join(path, key)
    metric = _mapping(doc, ratio, key, path)
    if not metric:
        raise doc.error(where, f"ratioMetrics.{key} is required")
    source = _string(doc, metric, "source", where)
    if source not in ("prometheus", "sloth"):
        raise doc.error(f"{where}.source", f"expected prometheus or sloth, got {source!r}")
    query_type = _string(doc, metric, "queryType", where)
    if query_type != "promql":
        raise doc.error(f"{where}.queryType", f"expected promql, got {query_type!r}")
    query = _string(doc, metric, "query", where)
    _check_query(doc, query, f"{where}.query")
    return query


def _parse_openslo(doc: Document) -> SlothServiceLevel:
    metadata = _mapping(doc, doc.data, "metadata", "")
    base_name = _string(doc, metadata, "name", "metadata")
    if not base_name:
        raise doc.error("metadata.name", "an OpenSLO SLO needs a metadata.name")
    spec = _mapping(doc, doc.data, "spec", "")
    service = _string(doc, spec, "service", "spec")
    _check_name(doc, service, "spec.service", "service")
    windows = spec.get("timeWindows") or []
    if not isinstance(windows, list):
        raise doc.error("spec.timeWindows", f"expected a list, got {_type_name(windows)}")
    period_s: int | None = None
    if len(windows) > 1:
        raise doc.error("spec.timeWindows", "Sloth supports a single time window")
    if windows:
        window = windows[0]
        if not isinstance(window, Mapping):
            raise doc.error("spec.timeWindows[0]", "expected a mapping with count and unit")
        unit = _string(doc, window, "unit", "spec.timeWindows[0]")
        if unit.lower() != "day":
            raise doc.error("spec.timeWindows[0].unit", f"expected Day, got {unit!r}")
        count = window.get("count")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise doc.error("spec.timeWindows[0].count", f"expected days >= 1, got {count!r}")
        period_s = count * 86400
    objectives = spec.get("objectives")
    if not isinstance(objectives, list) or not objectives:
        raise doc.error("spec.objectives", "at least one objective is required")
    description = _string(doc, spec, "description", "spec")
    slos: list[SlothSLO] = []
    for index, (path, objective) in enumerate(_mappings(doc, objectives, "spec.objectives")):
        ratio = _mapping(doc, objective, "ratioMetrics", path)
        if not ratio:
            raise doc.error(f"{path}.ratioMetrics", "Sloth reads only ratioMetrics objectives")
        good = _openslo_query(doc, ratio, "good", f"{path}.ratioMetrics")
        total = _openslo_query(doc, ratio, "total", f"{path}.ratioMetrics")
        target = _number(doc, objective, "target", path)
        if target is None:
            raise doc.error(f"{path}.target", "a target ratio is required (0.999)")
        percent = target * 100
        if not 0 < percent <= 100:
            raise doc.error(f"{path}.target", f"expected a ratio > 0 and <= 1, got {target!r}")
        name = f"{base_name}-{index}"
        _check_name(doc, name, "metadata.name", "SLO name")
        _check_name(doc, f"{service}-{name}", "metadata.name", "SLO id")
        slos.append(
            SlothSLO(
                service=service,
                name=name,
                objective=percent,
                sli=SlothSLI(
                    kind="raw",
                    error_ratio_query=_OPENSLO_RAW_TEMPLATE.format(good=good, total=total),
                    good_query=good,
                    total_query=total,
                ),
                description=description,
                period_s=period_s,
                page=SlothAlert(disabled=True),
                ticket=SlothAlert(disabled=True),
                path=path,
            )
        )
    return SlothServiceLevel(spec=_OPENSLO_V1ALPHA, slos=tuple(slos), document=doc)


# --- entry points --------------------------------------------------------------------------------


def _parse_one(doc: Document) -> SlothServiceLevel | None:
    data = doc.data
    if "version" in data:
        version = data.get("version")
        if version != _PROMETHEUS_V1:
            raise doc.error(
                "version", f"unknown Sloth spec version {version!r}: expected {_PROMETHEUS_V1!r}"
            )
        return _parse_prometheus_v1(doc)
    api_version = data.get("apiVersion")
    kind = data.get("kind")
    if api_version == _K8S_API_VERSION:
        if kind != _K8S_KIND:
            raise doc.error(
                "kind", f"expected {_K8S_KIND} for apiVersion {_K8S_API_VERSION}, got {kind!r}"
            )
        return _parse_k8s(doc)
    if api_version == _OPENSLO_V1ALPHA:
        if kind == "Service":
            _check_v1alpha_service(doc)
            return None
        if kind != "SLO":
            raise doc.error("kind", f"Sloth reads OpenSLO v1alpha SLO and Service, got {kind!r}")
        return _parse_openslo(doc)
    raise doc.error(
        "apiVersion" if api_version is not None else "version",
        "not a Sloth spec: expected `version: prometheus/v1`, `apiVersion: sloth.slok.dev/v1` "
        "with `kind: PrometheusServiceLevel`, or `apiVersion: openslo/v1alpha`",
    )


def parse_sloth_documents(
    documents: Iterable[Document], *, ignore_duplicates: bool = False
) -> list[SlothServiceLevel]:
    """Every Sloth document, validated as Sloth validates; OpenSLO Service documents skipped.

    SLO ids (`service-name`) must be unique within a document, and across documents unless
    `ignore_duplicates` (Sloth's `--ignore-slo-duplicates`).
    """
    levels: list[SlothServiceLevel] = []
    seen: dict[str, Document] = {}
    for doc in documents:
        level = _parse_one(doc)
        if level is None:
            continue
        local: set[str] = set()
        for slo in level.slos:
            where = _join(slo.path, "name")
            if slo.id in local:
                raise doc.error(where, f"duplicate SLO id {slo.id!r} in this document")
            local.add(slo.id)
            first = seen.get(slo.id)
            if first is not None and not ignore_duplicates:
                raise doc.error(
                    where, f"duplicate SLO id {slo.id!r}: also defined in {first.where}"
                )
            seen.setdefault(slo.id, doc)
        levels.append(level)
    return levels


def unsupported_sli_plugin(doc: Document, slo: SlothSLO) -> SpecError:
    """An SLI plugin is Go code defining the indicator: srekit can neither read nor render it."""
    return doc.error(
        _join(slo.path, "sli.plugin"),
        f"Sloth SLI plugins (Go) are not supported by srekit (plugin {slo.sli.plugin_id!r}); "
        "use sli.events or sli.raw",
    )


def _fraction(percent: float) -> float:
    """99.9 → 0.999 exactly as written (not 0.9990000000000001)."""
    return float(Decimal(repr(percent)) / 100)


def _indicator(doc: Document, slo: SlothSLO) -> Indicator:
    sli = slo.sli
    if sli.kind == "plugin":
        raise unsupported_sli_plugin(doc, slo)
    if sli.good_query is not None and sli.total_query is not None:
        return PromRatio(good=sli.good_query, total=sli.total_query)
    if sli.kind == "events" and sli.error_query is not None and sli.total_query is not None:
        return PromRatio(bad=sli.error_query, total=sli.total_query)
    return PromErrorRatio(error_ratio=sli.error_ratio_query or "")


def _check_srekit_names(level: SlothServiceLevel, slo: SlothSLO) -> None:
    """Sloth takes uppercase names (`MyService`) and renders rules for them as it would; the
    service and SLO names srekit keeps follow srekit's own rule (`core.names`)."""
    if level.spec == _OPENSLO_V1ALPHA:
        fields = {"spec.service": slo.service, "metadata.name": slo.name}
    else:
        service_field = "spec.service" if level.spec == _K8S_API_VERSION else "service"
        fields = {service_field: slo.service, _join(slo.path, "name"): slo.name}
    for where, value in fields.items():
        problem = name_problem(value)
        if problem is not None:
            raise level.document.error(where, problem)


def parse_documents(
    documents: Sequence[Document],
    *,
    ignore_duplicates: bool = False,
    default_period_s: int = DEFAULT_SLO_PERIOD_S,
) -> list[SLO]:
    """Sloth specs as core SLOs (objective as a fraction, 30-day rolling window by default).

    SLO plugins only change how Sloth renders rules and are ignored here; SLI plugins define the
    indicator itself and are refused. An objective of 100 leaves no error budget, and names
    with uppercase letters are not srekit's: Sloth accepts both, srekit's model does not.
    """
    result: list[SLO] = []
    for level in parse_sloth_documents(documents, ignore_duplicates=ignore_duplicates):
        doc = level.document
        for slo in level.slos:
            if slo.objective >= 100:
                raise doc.error(
                    _join(slo.path, "objective"),
                    "an objective of 100 leaves no error budget: expected below 100",
                )
            _check_srekit_names(level, slo)
            result.append(
                SLO(
                    service=slo.service,
                    name=slo.name,
                    objective=_fraction(slo.objective),
                    window=RollingWindow(slo.period_s or default_period_s),
                    indicator=_indicator(doc, slo),
                    labels=dict(slo.labels),
                    alerting=Alerting(
                        name=slo.alert_name or None,
                        labels=dict(slo.alert_labels),
                        annotations=dict(slo.alert_annotations),
                        page=AlertSpec(
                            disabled=slo.page.disabled,
                            labels=dict(slo.page.labels),
                            annotations=dict(slo.page.annotations),
                        ),
                        ticket=AlertSpec(
                            disabled=slo.ticket.disabled,
                            labels=dict(slo.ticket.labels),
                            annotations=dict(slo.ticket.annotations),
                        ),
                    ),
                    description=slo.description or None,
                    source_file=doc.file,
                )
            )
    return result
