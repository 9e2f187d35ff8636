"""Load-test results files read into `core.load_gate.LoadSummary`: k6's `--summary-export`
JSON, k6's `handleSummary` data, Locust's `*_stats.csv`, and srekit's own stored document."""

from __future__ import annotations

from srekit.loadresults.document import summary_document, summary_from_document
from srekit.loadresults.readers import FILE_BYTES, parse_results, read_results, srekit_summary

__all__ = [
    "FILE_BYTES",
    "parse_results",
    "read_results",
    "srekit_summary",
    "summary_document",
    "summary_from_document",
]
