"""Line coverage per package of srekit, from the `.coverage` file the test run left.

`make test` prints it after pytest; it exits 1 when `core`, the pure domain where every number
is computed, is not fully covered.
"""

from __future__ import annotations

import sys
from pathlib import Path

import coverage

FULLY_COVERED = ("core",)


def by_package(data_file: str = ".coverage") -> dict[str, tuple[int, int]]:
    """(statements, missed) per package under srekit (top-level modules count as `srekit`)."""
    measured = coverage.Coverage(data_file=data_file)
    measured.load()
    totals: dict[str, tuple[int, int]] = {}
    for name in measured.get_data().measured_files():
        parts = Path(name).parts
        if "srekit" not in parts:
            continue
        inner = parts[len(parts) - parts[::-1].index("srekit") :]
        package = inner[0] if len(inner) > 1 else "srekit"
        _, statements, _, missing, _ = measured.analysis2(name)
        seen, missed = totals.get(package, (0, 0))
        totals[package] = (seen + len(statements), missed + len(missing))
    return totals


def main() -> int:
    totals = by_package()
    if not totals:
        print("no coverage data: run pytest with --cov first", file=sys.stderr)
        return 1
    print(f"{'package':<10} {'lines':>7} {'missed':>7} {'covered':>8}")
    failing: list[str] = []
    for package, (statements, missed) in sorted(totals.items()):
        share = 1.0 if statements == 0 else (statements - missed) / statements
        print(f"{package:<10} {statements:>7} {missed:>7} {share:>8.1%}")
        if package in FULLY_COVERED and missed:
            failing.append(package)
    statements = sum(s for s, _ in totals.values())
    missed = sum(m for _, m in totals.values())
    print(f"{'total':<10} {statements:>7} {missed:>7} {(statements - missed) / statements:>8.1%}")
    for package in failing:
        print(f"error: srekit.{package} must be fully covered", file=sys.stderr)
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
