"""Sloth-compatible Prometheus rules: the exact bytes `sloth generate` prints.

Teams migrating from Sloth diff srekit's output against Sloth's, so every detail is Sloth's: rule
and group names, label merge order, the multi-window multi-burn-rate expression, Go's float
formatting (`%g` shortest: `0.9990000000000001`, `1e-05`; `'f'` for `sloth_objective`),
Prometheus duration spelling (`4w`, `30d`) and go-yaml v2's emitter (sorted map keys, literal
blocks for multi-line strings, 80-column folding of long plain and quoted scalars). For a
`PrometheusServiceLevel` CRD input the output is the prometheus-operator `PrometheusRule` object,
whose keys are all sorted because Sloth marshals it through JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from srekit.sloth.gonum import go_format_f, go_format_g, go_hours
from srekit.sloth.goyaml import Map, Node, Seq, emit_document, sorted_map, sorted_node
from srekit.sloth.spec import (
    SlothPluginChain,
    SlothServiceLevel,
    SlothSLO,
    render_window,
    unsupported_sli_plugin,
)
from srekit.sloth.windows import (
    DEFAULT_SLO_PERIOD_S,
    GOOGLE_28D,
    GOOGLE_30D,
    AlertWindows,
    catalog_by_period,
    load_alert_windows,
    prom_duration,
)

__all__ = ["generate_sloth_rules"]


def _go_quote(text: str) -> str:
    """strconv.Quote: printable runes kept, the rest escaped."""
    escapes = {"\a": r"\a", "\b": r"\b", "\f": r"\f", "\n": r"\n", "\r": r"\r", "\t": r"\t"}
    escapes |= {"\v": r"\v", "\\": r"\\", '"': r"\""}
    out: list[str] = []
    for char in text:
        if char in escapes:
            out.append(escapes[char])
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x80:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def _label_filter(labels: Mapping[str, str]) -> str:
    """model.LabelSet.String(): `{a="1", b="2"}`, names sorted."""
    inner = ", ".join(f"{name}={_go_quote(labels[name])}" for name in sorted(labels))
    return "{" + inner + "}"


@dataclass(frozen=True)
class _Rule:
    """rulefmt.Rule; empty fields are omitted (omitempty)."""

    expr: str
    record: str = ""
    alert: str = ""
    labels: Mapping[str, str] | None = None
    annotations: Mapping[str, str] | None = None

    def prometheus_node(self) -> Map:
        items: list[tuple[str, Node]] = []
        if self.record:
            items.append(("record", self.record))
        if self.alert:
            items.append(("alert", self.alert))
        items.append(("expr", self.expr))
        if self.labels:
            items.append(("labels", sorted_map(self.labels)))
        if self.annotations:
            items.append(("annotations", sorted_map(self.annotations)))
        return Map(tuple(items))

    def k8s_node(self) -> Map:
        return sorted_node(self.prometheus_node().items)


@dataclass(frozen=True)
class _Group:
    name: str
    rules: tuple[_Rule, ...]


@dataclass(frozen=True)
class _Info:
    version: str
    mode: str
    spec: str


_MODES = {
    "prometheus/v1": "cli-gen-prom",
    "sloth.slok.dev/v1": "cli-gen-k8s",
    "openslo/v1alpha": "cli-gen-openslo",
}

_ALERT_TEMPLATE = """(
    max({quick_short}{filter} > ({quick_factor} * {budget})) without (sloth_window)
    and
    max({quick_long}{filter} > ({quick_factor} * {budget})) without (sloth_window)
)
or
(
    max({slow_short}{filter} > ({slow_factor} * {budget})) without (sloth_window)
    and
    max({slow_long}{filter} > ({slow_factor} * {budget})) without (sloth_window)
)
"""

_BURN_RATE_TEMPLATE = """{metric}{filter}
/ on(sloth_id, sloth_slo, sloth_service) group_left
slo:error_budget:ratio{filter}
"""

_NOOP_PLUGINS = {"sloth.dev/core/debug/v1", "sloth.dev/core/noop/v1", "sloth.dev/core/validate/v1"}
_RULE_PLUGINS = {
    "sloth.dev/core/sli_rules/v1": "sli",
    "sloth.dev/core/metadata_rules/v1": "meta",
    "sloth.dev/core/alert_rules/v1": "alerts",
}


@dataclass(frozen=True)
class _Stages:
    """Which of Sloth's core rule plugins run for an SLO, after its plugin chains."""

    sli: bool = True
    meta: bool = True
    alerts: bool = True
    optimized: bool = True


def _stages(level: SlothServiceLevel, slo: SlothSLO) -> _Stages:
    """Emulate the plugin chains built only from Sloth's built-in core plugins.

    Core plugins are compiled into Sloth, so their effect is known: debug, noop and validate
    leave the rules alone, and the rule plugins each own one rule group. Any other plugin is
    Go code srekit cannot run.
    """
    chains: list[SlothPluginChain] = [level.plugins, slo.plugins]
    doc = level.document
    for chain in chains:
        for index, plugin in enumerate(chain.plugins):
            if plugin.id not in _NOOP_PLUGINS and plugin.id not in _RULE_PLUGINS:
                raise doc.error(
                    f"{chain.path}.chain[{index}].id",
                    f"Sloth SLO plugins (Go) are not supported by srekit (plugin {plugin.id!r}); "
                    "only Sloth's built-in sloth.dev/core plugins can be listed",
                )
    active: list[SlothPluginChain] = []
    for chain in chains:
        if chain.override_previous:
            active = []
        active.append(chain)
    overridden = any(chain.override_previous for chain in chains)
    listed = {plugin.id for chain in active for plugin in chain.plugins}
    optimized = True
    for chain in active:
        for plugin in sorted(chain.plugins, key=lambda one: one.priority):
            if plugin.id == "sloth.dev/core/sli_rules/v1":
                config = plugin.config if isinstance(plugin.config, Mapping) else {}
                optimized = not bool(config.get("disableOptimized", False))
    present = {stage for plugin_id, stage in _RULE_PLUGINS.items() if plugin_id in listed}
    return _Stages(
        sli=not overridden or "sli" in present,
        meta=not overridden or "meta" in present,
        alerts=not overridden or "alerts" in present,
        optimized=optimized,
    )


def _sli_metric(window_s: int) -> str:
    return f"slo:sli_error:ratio_rate{prom_duration(window_s)}"


def _sli_rules(
    slo: SlothSLO,
    catalog: AlertWindows,
    period_s: int,
    labels: Mapping[str, str],
    *,
    optimized: bool,
) -> list[_Rule]:
    id_labels = _id_labels(slo)
    rules: list[_Rule] = []
    for window_s in [*catalog.windows_s(), period_s]:
        window = prom_duration(window_s)
        if optimized and window_s == period_s:
            short = _sli_metric(catalog.page_quick.short_window_s)
            filter_ = _label_filter(id_labels)
            expr = (
                f"sum_over_time({short}{filter_}[{window}])\n"
                "/ ignoring (sloth_window)\n"
                f"count_over_time({short}{filter_}[{window}])\n"
            )
        elif slo.sli.kind == "events":
            expr = render_window(f"({slo.sli.error_query})\n/\n({slo.sli.total_query})\n", window)
        else:
            expr = render_window(f"({slo.sli.error_ratio_query})", window)
        rules.append(
            _Rule(
                record=_sli_metric(window_s),
                expr=expr,
                labels={**id_labels, "sloth_window": window, **labels},
            )
        )
    return rules


def _id_labels(slo: SlothSLO) -> dict[str, str]:
    return {"sloth_id": slo.id, "sloth_service": slo.service, "sloth_slo": slo.name}


def _meta_rules(
    slo: SlothSLO,
    catalog: AlertWindows,
    period_s: int,
    labels: Mapping[str, str],
    info: _Info,
) -> list[_Rule]:
    id_labels = _id_labels(slo)
    filter_ = _label_filter(id_labels)
    merged = {**id_labels, **labels}
    objective_ratio = go_format_g(slo.objective / 100)
    current = _sli_metric(catalog.page_quick.short_window_s)
    period_metric = _sli_metric(period_s)
    info_labels = {
        **merged,
        "sloth_version": info.version,
        "sloth_mode": info.mode,
        "sloth_spec": info.spec,
        "sloth_objective": go_format_f(slo.objective),
    }
    return [
        _Rule(record="slo:objective:ratio", expr=f"vector({objective_ratio})", labels=merged),
        _Rule(record="slo:error_budget:ratio", expr=f"vector(1-{objective_ratio})", labels=merged),
        _Rule(
            record="slo:time_period:days",
            expr=f"vector({go_format_g(go_hours(period_s) / 24)})",
            labels=merged,
        ),
        _Rule(
            record="slo:current_burn_rate:ratio",
            expr=_BURN_RATE_TEMPLATE.format(metric=current, filter=filter_),
            labels=merged,
        ),
        _Rule(
            record="slo:period_burn_rate:ratio",
            expr=_BURN_RATE_TEMPLATE.format(metric=period_metric, filter=filter_),
            labels=merged,
        ),
        _Rule(
            record="slo:period_error_budget_remaining:ratio",
            expr=f"1 - slo:period_burn_rate:ratio{filter_}",
            labels=merged,
        ),
        _Rule(record="sloth_slo_info", expr="vector(1)", labels=info_labels),
    ]


def _alert_rules(slo: SlothSLO, catalog: AlertWindows) -> list[_Rule]:
    filter_ = _label_filter(_id_labels(slo))
    budget = go_format_g((100 - slo.objective) / 100)
    rules: list[_Rule] = []
    severities = (
        ("page", slo.page, catalog.page_quick, catalog.page_slow),
        ("ticket", slo.ticket, catalog.ticket_quick, catalog.ticket_slow),
    )
    for severity, alert, quick, slow in severities:
        if alert.disabled:
            continue
        expr = _ALERT_TEMPLATE.format(
            filter=filter_,
            budget=budget,
            quick_short=_sli_metric(quick.short_window_s),
            quick_long=_sli_metric(quick.long_window_s),
            quick_factor=go_format_g(catalog.burn_rate_factor(quick)),
            slow_short=_sli_metric(slow.short_window_s),
            slow_long=_sli_metric(slow.long_window_s),
            slow_factor=go_format_g(catalog.burn_rate_factor(slow)),
        )
        annotations = {
            "title": (
                f"({severity}) {{{{$labels.sloth_service}}}} {{{{$labels.sloth_slo}}}} "
                "SLO error budget burn rate is too fast."
            ),
            "summary": (
                "{{$labels.sloth_service}} {{$labels.sloth_slo}} "
                "SLO error budget burn rate is over expected."
            ),
        }
        rules.append(
            _Rule(
                alert=slo.alert_name,
                expr=expr,
                labels={"sloth_severity": severity, **slo.alert_labels, **alert.labels},
                annotations={**annotations, **slo.alert_annotations, **alert.annotations},
            )
        )
    return rules


def _groups(
    level: SlothServiceLevel,
    *,
    info: _Info,
    extra_labels: Mapping[str, str],
    default_period_s: int,
    catalogs: Mapping[int, AlertWindows],
    disable_alerts: bool,
    disable_recordings: bool,
) -> list[_Group]:
    doc = level.document
    groups: list[_Group] = []
    for slo in level.slos:
        if slo.sli.kind == "plugin":
            raise unsupported_sli_plugin(doc, slo)
        stages = _stages(level, slo)
        period_s = slo.period_s or default_period_s
        catalog = catalogs.get(period_s)
        if catalog is None:
            known = ", ".join(prom_duration(period) for period in sorted(catalogs)) or "none"
            raise doc.error(
                slo.path,
                f"no alert windows for the SLO period {prom_duration(period_s)} "
                f"(catalogs cover: {known}); pass a window catalog for it",
            )
        labels = {**slo.labels, **extra_labels}
        if not disable_recordings and stages.sli:
            rules = _sli_rules(slo, catalog, period_s, labels, optimized=stages.optimized)
            groups.append(_Group(f"sloth-slo-sli-recordings-{slo.id}", tuple(rules)))
        if not disable_recordings and stages.meta:
            rules = _meta_rules(slo, catalog, period_s, labels, info)
            groups.append(_Group(f"sloth-slo-meta-recordings-{slo.id}", tuple(rules)))
        if not disable_alerts and stages.alerts:
            alerts = _alert_rules(slo, catalog)
            if alerts:
                groups.append(_Group(f"sloth-slo-alerts-{slo.id}", tuple(alerts)))
    return groups


def _prometheus_document(groups: Sequence[_Group]) -> Map:
    return Map(
        (
            (
                "groups",
                Seq(
                    tuple(
                        Map(
                            (
                                ("name", group.name),
                                ("rules", Seq(tuple(r.prometheus_node() for r in group.rules))),
                            )
                        )
                        for group in groups
                    )
                ),
            ),
        )
    )


def _k8s_document(level: SlothServiceLevel, groups: Sequence[_Group]) -> Map:
    meta = level.k8s
    if meta is None:
        raise level.document.error(
            None, "PrometheusRule output needs a PrometheusServiceLevel (its metadata) as input"
        )
    labels = {
        "app.kubernetes.io/component": "SLO",
        "app.kubernetes.io/managed-by": "sloth",
        **meta.labels,
    }
    metadata: list[tuple[str, Node]] = [
        ("name", meta.name),
        ("labels", sorted_map(labels)),
    ]
    if meta.namespace:
        metadata.append(("namespace", meta.namespace))
    if meta.annotations:
        metadata.append(("annotations", sorted_map(meta.annotations)))
    group_nodes = tuple(
        sorted_node(
            (("name", group.name), ("rules", Seq(tuple(r.k8s_node() for r in group.rules))))
        )
        for group in groups
    )
    return sorted_node(
        (
            ("apiVersion", "monitoring.coreos.com/v1"),
            ("kind", "PrometheusRule"),
            ("metadata", sorted_node(metadata)),
            ("spec", sorted_node((("groups", Seq(group_nodes)),))),
        )
    )


def generate_sloth_rules(
    slos: Sequence[SlothServiceLevel],
    *,
    version: str = "dev",
    extra_labels: Mapping[str, str] | None = None,
    slo_period_s: int = DEFAULT_SLO_PERIOD_S,
    window_catalog: Path | Sequence[AlertWindows] | None = None,
    disable_alerts: bool = False,
    disable_recordings: bool = False,
    output: Literal["prometheus", "k8s"] | None = None,
) -> str:
    """What `sloth generate` prints for these service levels (one YAML document each).

    `version` fills `sloth_version` and the header; `extra_labels` go on every recording rule
    (Sloth's `-l`); `slo_period_s` is the period of specs that do not state one
    (`--default-slo-period`); `window_catalog` replaces the built-in Google 30d/28d catalogs
    (`--slo-period-windows-path`). The output form follows the input (PrometheusRule for the
    CRD) unless `output` forces one. Raises SpecError for Go plugins and periods without windows.
    """
    if window_catalog is None:
        catalogs = catalog_by_period([GOOGLE_30D, GOOGLE_28D])
    elif isinstance(window_catalog, Path):
        catalogs = catalog_by_period(load_alert_windows(window_catalog))
    else:
        catalogs = catalog_by_period(window_catalog)
    header = (
        f"\n---\n# Code generated by Sloth ({version}): https://github.com/slok/sloth.\n"
        "# DO NOT EDIT.\n\n"
    )
    documents: list[str] = []
    for level in slos:
        info = _Info(version=version, mode=_MODES[level.spec], spec=level.spec)
        groups = _groups(
            level,
            info=info,
            extra_labels=extra_labels or {},
            default_period_s=slo_period_s,
            catalogs=catalogs,
            disable_alerts=disable_alerts,
            disable_recordings=disable_recordings,
        )
        form = output or ("k8s" if level.k8s is not None else "prometheus")
        root = _k8s_document(level, groups) if form == "k8s" else _prometheus_document(groups)
        documents.append(header + emit_document(root))
    return "".join(documents)
