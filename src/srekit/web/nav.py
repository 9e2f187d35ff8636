"""The dashboard's navigation: one entry per page, in the order the nav bar shows them.

A capability that adds a page appends its entry here (docs/architecture.md, "How a capability
adds its page"); `name` is what the page passes as `active` when it renders.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NAV", "NavEntry"]


@dataclass(frozen=True)
class NavEntry:
    name: str
    label: str
    path: str


NAV: tuple[NavEntry, ...] = (
    NavEntry("overview", "Overview", "/ui/"),
    NavEntry("slos", "SLOs", "/ui/slos"),
    NavEntry("incidents", "Incidents", "/ui/incidents"),
    NavEntry("oncall", "On-call", "/ui/oncall"),
    NavEntry("deployments", "Deployments", "/ui/deployments"),
    NavEntry("capacity", "Capacity", "/ui/capacity"),
    NavEntry("load", "Load tests", "/ui/load"),
    NavEntry("canary", "Canary", "/ui/canary"),
    NavEntry("chaos", "Chaos", "/ui/chaos"),
    NavEntry("audit", "Audit", "/ui/audit"),
)
