"""Paths and parsed documents shared by the deployment tests."""

from __future__ import annotations

import inspect
import tomllib
from pathlib import Path
from typing import Any

import yaml

from srekit.api.routes.health import router as health_router
from srekit.cli.serve import serve

ROOT = Path(__file__).resolve().parents[2]
KUSTOMIZE = ROOT / "deploy" / "kustomize"
BASE = KUSTOMIZE / "base"
OVERLAYS = {name: KUSTOMIZE / "overlays" / name for name in ("team", "organisation")}
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# What `srekit serve` listens on by default, and the paths of its probes and /metrics.
SERVE_PORT = inspect.signature(serve).parameters["port"].default
HEALTH_PATHS = {route.path for route in health_router.routes}  # type: ignore[attr-defined]


def read_documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def base_document(kind: str) -> dict[str, Any]:
    (document,) = [
        d for p in sorted(BASE.glob("*.yaml")) for d in read_documents(p) if d.get("kind") == kind
    ]
    return document
