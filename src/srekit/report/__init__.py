"""The SRE report rendered from its JSON document (`contracts.ReportOut`): Markdown, HTML
(Jinja2 with autoescape, inline CSS and SVG, no external request) and PDF (WeasyPrint). The
CLI and the API render the same document the same way, so the same stored data gives the same
bytes."""

from __future__ import annotations

from srekit.report.render import (
    ReportFormat,
    render_html,
    render_markdown,
    render_pdf,
    render_report,
)

__all__ = ["ReportFormat", "render_html", "render_markdown", "render_pdf", "render_report"]
