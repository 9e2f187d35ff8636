"""Markdown, HTML and PDF of a report document; the figures are the document's, only
formatted here."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from srekit.report.svg import burn_down_svg

__all__ = ["ReportFormat", "render_html", "render_markdown", "render_pdf", "render_report"]

_KIND_TITLE = {"monthly": "SRE report", "weekly": "Error-budget review"}
NO_DATA = "no data"


class ReportFormat(StrEnum):
    MD = "md"
    HTML = "html"
    PDF = "pdf"
    JSON = "json"


def _percent(value: float | None) -> str:
    if value is None:
        return NO_DATA
    text = f"{value * 100:.3f}".rstrip("0").rstrip(".")
    return f"{'0' if text == '-0' else text} %"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes = seconds / 60
    if minutes < 120:
        return f"{minutes:.0f} min"
    hours = minutes / 60
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"


def _days(value: float | None) -> str:
    return "not burning" if value is None else f"{value:.1f} d"


def _days_left(budget: dict[str, Any]) -> str:
    if budget["remaining"] is None:
        return NO_DATA
    return "spent" if budget["remaining"] <= 0 else _days(budget["days_left"])


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _met(value: bool | None) -> str:
    return NO_DATA if value is None else ("yes" if value else "**no**")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows]
    return lines


def _title(document: dict[str, Any]) -> str:
    return f"{_KIND_TITLE[document['period']['kind']]}: {document['period']['title']}"


def _compliance(slo: dict[str, Any]) -> str:
    if slo["compliance"] is None:
        return NO_DATA
    return f"{_percent(slo['compliance'])} ({slo['days_met']} of {slo['days_with_data']} days)"


def sections(document: dict[str, Any]) -> dict[str, Any]:
    """The rows each section shows, formatted once for Markdown and HTML alike."""
    slos = document["slos"]
    incidents = document["incidents"]
    deployments = document["deployments"]
    performance = [
        [
            f"{slo['service']}/{slo['slo']}",
            _percent(slo["objective"]),
            slo["window"],
            _percent(slo["sli"]),
            _met(slo["met"]),
            _compliance(slo),
        ]
        for slo in slos
    ]
    budget = [
        [
            f"{slo['service']}/{slo['slo']}",
            _percent(slo["error_budget"]["remaining"]),
            _percent(slo["error_budget"]["consumed"]),
            _days_left(slo["error_budget"]),
        ]
        for slo in slos
        if slo["days_with_data"]
    ]
    severity_rows, budget_rows = [], []
    if incidents is not None:
        for name, figures in [*incidents["by_severity"].items(), ("all", incidents["overall"])]:
            if figures["count"] or name == "all":
                severity_rows.append(
                    [
                        name,
                        str(figures["count"]),
                        str(figures["open"]),
                        _duration(figures["mttr_s"]),
                        _duration(figures["mtbf_s"]),
                    ]
                )
        for spent in incidents["budgets"]:
            budget_rows.append(
                [
                    f"#{spent['incident_id']}",
                    spent["slo"],
                    _percent(spent["consumed"])
                    if spent["consumed"] is not None
                    else f"unknown: {spent['reason']}",
                ]
            )
    return {
        "title": _title(document),
        "performance": performance,
        "budget": budget,
        "severity_rows": severity_rows,
        "budget_rows": budget_rows,
        "deployments": (
            f"{_plural(deployments['total'], 'deploy')} asked the gate:"
            f" {deployments['allowed']} allowed, {deployments['denied']} denied,"
            f" {_plural(deployments['rollbacks'], 'rollback')}."
            if deployments["total"]
            else "No deploy asked the gate in this period."
        ),
        "changes": [
            [
                change["at"],
                f"{change['service']}/{change['slo']}",
                change["action"] + (f" (v{change['version']})" if change["version"] else ""),
                change["actor"],
                "; ".join(change["changes"]) or "-",
            ]
            for change in document["changes"]
        ],
        "actions": [
            [
                f"#{item['id']}",
                f"#{item['incident']}",
                item["title"],
                item["owner"] or "-",
                item["due_at"] or "-",
                "**overdue**" if item["overdue"] else "",
            ]
            for item in document["action_items"]
        ],
    }


_PERFORMANCE = ["SLO", "objective", "window", "SLI", "met", "calendar compliance"]
_BUDGET = ["SLO", "remaining", "consumed", "days left at the current burn"]
_SEVERITY = ["severity", "incidents", "open", "MTTR", "MTBF"]
_SPENT = ["incident", "SLO", "error budget consumed"]
_CHANGES = ["at", "SLO", "change", "by", "fields"]
_ACTIONS = ["task", "incident", "title", "owner", "due", ""]


def render_markdown(document: dict[str, Any]) -> str:
    """The report as Markdown: the same sections as the HTML, tables for figures."""
    shown = sections(document)
    period = document["period"]
    lines = [
        f"# {shown['title']}",
        "",
        f"Scope: {document['scope']}. Period: {period['start']} to {period['end']}."
        f" Generated at {document['at']}.",
        "",
        "## Executive summary",
        "",
        " ".join(document["summary"]),
        "",
        "## SLO performance",
        "",
    ]
    lines += (
        _table(_PERFORMANCE, shown["performance"])
        if shown["performance"]
        else ["No SLO is defined in this scope."]
    )
    lines += ["", "## Error budget", ""]
    lines += (
        _table(_BUDGET, shown["budget"]) if shown["budget"] else ["No SLO had data in this period."]
    )
    lines += ["", "## Incidents", ""]
    if document["incidents"] is None:
        lines.append("No incident was opened in this period.")
    else:
        lines += _table(_SEVERITY, shown["severity_rows"])
        if shown["budget_rows"]:
            lines += ["", *_table(_SPENT, shown["budget_rows"])]
    lines += ["", "## Deployments", "", shown["deployments"], "", "## Toil", ""]
    lines.append(document["toil"]["note"])
    lines += ["", "## SLO definition changes", ""]
    lines += (
        _table(_CHANGES, shown["changes"])
        if shown["changes"]
        else ["No SLO definition changed in this period."]
    )
    lines += ["", "## Action items", ""]
    lines += (
        _table(_ACTIONS, shown["actions"]) if shown["actions"] else ["No follow-up task is open."]
    )
    return "\n".join(lines) + "\n"


def render_html(document: dict[str, Any]) -> str:
    """The report as one self-contained HTML page: inline CSS and SVG, no script, no link to
    anything outside it. Autoescaped: names and titles are text, never markup."""
    from jinja2 import Environment, PackageLoader, select_autoescape
    from markupsafe import Markup

    environment = Environment(
        loader=PackageLoader("srekit.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        keep_trailing_newline=True,
    )
    charts = [
        Markup(
            burn_down_svg(
                [point["remaining"] for point in slo["burn_down"]],
                title=f"{slo['service']}/{slo['slo']}",
            )
        )
        for slo in document["slos"]
    ]
    template = environment.get_template("report.html")
    return template.render(
        document=document,
        shown=sections(document),
        charts=charts,
        headers={
            "performance": _PERFORMANCE,
            "budget": _BUDGET,
            "severity": _SEVERITY,
            "spent": _SPENT,
            "changes": _CHANGES,
            "actions": [*_ACTIONS[:-1], "overdue"],
        },
    )


def render_pdf(document: dict[str, Any]) -> bytes:
    """The HTML report printed by WeasyPrint. Its creation date is the report's `at`, and its
    file identifier is derived from the content, so the same document gives the same bytes."""
    import hashlib

    from weasyprint import HTML

    html = render_html(document)
    identifier = hashlib.sha256(html.encode()).hexdigest()[:32].encode()
    pdf = HTML(string=html).write_pdf(pdf_identifier=identifier)
    assert isinstance(pdf, bytes)  # without a target, write_pdf returns the bytes
    return pdf


def render_report(document: dict[str, Any], output: ReportFormat) -> bytes:
    """The report in `output`'s format, as bytes (UTF-8 for the text formats)."""
    if output is ReportFormat.PDF:
        return render_pdf(document)
    if output is ReportFormat.HTML:
        return render_html(document).encode()
    if output is ReportFormat.JSON:
        return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()
    return render_markdown(document).encode()
