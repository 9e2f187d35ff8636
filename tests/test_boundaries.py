"""The arrows of the house (docs/architecture.md), checked on every module's imports.

`core` is pure: the standard library, itself, and the third-party packages in
`CORE_ALLOWED` (pure numerics without I/O: numpy, for the forecasting models). Only the
store touches SQLAlchemy, Alembic, its tables and its codec. Only `api.app` wires the API's
routes. Nothing imports the CLI but the CLI. The adapters (`sources`, `rules`, `dashboards`,
`sloth`, `spec`, `store`, `alertmanager`, `ical`, `notifiers`, `capacity`, `loadgen`,
`loadresults`, `faultproxy`) and the layers above them but below the surfaces (`flows`, `jobs`)
import no surface. Imports inside
functions and under TYPE_CHECKING count as much as any other.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

_SURFACES = ("srekit.api", "srekit.cli", "srekit.web", "srekit.chaos")
# The only third-party packages core may import: pure numerics, no I/O, no clock.
CORE_ALLOWED = frozenset({"numpy", "re2"})
_STORE_ONLY = ("sqlalchemy", "alembic", "srekit.store.tables", "srekit.store.codec")


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _imports(path: Path, module: str) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            yield node.lineno, base
            for alias in node.names:  # `from srekit import cli` imports srekit.cli
                yield node.lineno, f"{base}.{alias.name}"


def _rule_broken(importer: str, imported: str) -> str | None:
    """Why `importer` may not import `imported`, or None when it may."""
    top = imported.split(".", maxsplit=1)[0]
    if _within(importer, "srekit.core"):
        if top == "srekit" and not _within(imported, "srekit.core"):
            return "core imports only the standard library and core"
        if (
            top not in ("srekit", "__future__", *CORE_ALLOWED)
            and top not in sys.stdlib_module_names
        ):
            return "core imports only the standard library, core, numpy and re2"
    if any(_within(imported, name) for name in _STORE_ONLY) and not _within(
        importer, "srekit.store"
    ):
        return "only the store touches SQLAlchemy, Alembic, its tables and its codec"
    if _within(imported, "srekit.api.routes") and not (
        importer == "srekit.api.app"
        or (
            _within(importer, "srekit.api.routes")
            and _within(imported, "srekit.api.routes.__init__")
        )
    ):
        return "only api.app imports api.routes"
    if _within(imported, "srekit.cli") and not _within(importer, "srekit.cli"):
        return "nothing outside cli imports cli"
    below = (
        "srekit.sources",
        "srekit.rules",
        "srekit.dashboards",
        "srekit.sloth",
        "srekit.spec",
        "srekit.store",
        "srekit.alertmanager",
        "srekit.ical",
        "srekit.notifiers",
        "srekit.capacity",
        "srekit.loadgen",
        "srekit.loadresults",
        "srekit.faultproxy",
    )
    if any(_within(importer, p) for p in (*below, "srekit.flows", "srekit.jobs")) and any(
        _within(imported, s) for s in _SURFACES
    ):
        return "adapters, flows and jobs import no surface (api, cli, web)"
    if any(_within(importer, p) for p in below) and any(
        _within(imported, p) for p in ("srekit.flows", "srekit.jobs")
    ):
        return "adapters import no flow or job: those call them"
    return None


def violations(src: Path) -> list[str]:
    """Every wrong arrow under `src/srekit`, as `file:line: importer -> imported: rule`."""
    found: dict[tuple[str, int, str], str] = {}
    for path in sorted((src / "srekit").rglob("*.py")):
        relative = path.relative_to(src).with_suffix("")
        parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
        module = ".".join(parts)
        for line, imported in _imports(path, module):
            why = _rule_broken(module, imported)
            if why:  # one line per import statement and rule, naming what it imports
                where = (str(path.relative_to(src)), line, why)
                found.setdefault(where, f"{where[0]}:{line}: {module} -> {imported}: {why}")
    return sorted(found.values())


def test_the_house_has_no_wrong_arrows() -> None:
    assert violations(SRC) == []


def test_core_may_import_numpy_re2_and_nothing_else_from_outside() -> None:
    assert {"numpy", "re2"} == CORE_ALLOWED
    assert _rule_broken("srekit.core.label_regex", "re2") is None
    assert _rule_broken("srekit.core.forecast", "numpy") is None
    assert _rule_broken("srekit.core.forecast", "numpy.linalg") is None
    assert _rule_broken("srekit.core.forecast", "numpyro") is not None


@pytest.mark.parametrize(
    ("file", "source", "rule"),
    [
        ("core/budget.py", "from srekit.store import repo", "core imports only"),
        ("core/budget.py", "import httpx", "core imports only"),
        ("core/forecast.py", "import pandas", "core imports only"),
        ("core/forecast.py", "from scipy import stats", "core imports only"),
        ("core/budget.py", "def f():\n    from srekit.config import Settings", "core imports only"),
        ("sources/factory.py", "from srekit.cli.options import abort", "nothing outside cli"),
        ("flows/gate.py", "from sqlalchemy import select", "only the store touches"),
        ("api/routes/gate.py", "from srekit.store.tables import SloRow", "only the store"),
        ("api/fastpath.py", "from srekit.api.routes.gate import router", "only api.app"),
        ("jobs/evaluator.py", "from srekit.api import deps", "import no surface"),
        ("store/repo/slos.py", "from srekit.flows import evaluate", "adapters import no flow"),
        (
            "rules/prometheus.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from srekit.api.app import x",
            "import no surface",
        ),
        ("spec/loader.py", "from ..api import app", "import no surface"),
        ("alertmanager/silences.py", "from srekit.cli import options", "nothing outside cli"),
        ("alertmanager/silences.py", "from srekit.api import deps", "import no surface"),
        ("alertmanager/silences.py", "from srekit.flows import intake", "adapters import no"),
        ("notifiers/http.py", "from srekit.api import deps", "import no surface"),
        ("notifiers/smtp.py", "from srekit.flows import notify", "adapters import no"),
        ("capacity/plot.py", "from srekit.web import svg", "import no surface"),
        ("capacity/hpa.py", "from srekit.flows import intake", "adapters import no"),
    ],
)
def test_a_planted_wrong_import_is_caught(
    tmp_path: Path, file: str, source: str, rule: str
) -> None:
    planted = tmp_path / "srekit" / file
    planted.parent.mkdir(parents=True)
    planted.write_text(source + "\n", encoding="utf-8")
    (tmp_path / "srekit" / "api" / "routes").mkdir(parents=True, exist_ok=True)
    (tmp_path / "srekit" / "api" / "app.py").write_text(
        "from srekit.api.routes import gate\n", encoding="utf-8"
    )
    found = violations(tmp_path)
    assert len(found) == 1, found
    assert rule in found[0]
    assert found[0].startswith(f"srekit/{file}:")
