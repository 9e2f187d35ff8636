"""Who is on call: `on_call` over 1,000 rotations of 3 layers (target ≤ 50 ms in all) and a
year of `shifts` of the documented example rotation (target ≤ 20 ms); medians of repeated runs.

python -m benchmarks.bench_oncall       # prints figures, writes benchmarks/results/oncall.json
"""

# ruff: noqa: E501 - the documented example rotation, one layer a line
from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from srekit.core.rotation import Handoff, Layer, Override, Rotation, ShiftLength, on_call, shifts
from srekit.spec.rotation import parse_rotation

RESULTS = Path(__file__).resolve().parent / "results"
ROTATIONS = 1_000
RUNS = 21
ZONES = ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC")
AT = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)  # ~46 weeks after the layers' starts

EXAMPLE = """\
apiVersion: srekit/v1
kind: Rotation
metadata: {name: payments}
spec:
  team: payments
  timezone: Europe/Berlin
  layers:
    - {name: primary, members: [alice, bob, carol], shift: 7d, handoff: "Mon 09:00", start: 2026-01-05}
    - {name: secondary, members: [dave, erin, frank], shift: 7d, handoff: "Thu 09:00", start: 2026-01-08}
    - {name: manager, members: [grace, heidi], shift: 1mo, handoff: "1 09:00", start: 2026-01-01}
  overrides:
    - {layer: primary, member: bob, from: "2026-03-28T18:00:00+01:00", to: "2026-03-30T09:00:00+02:00"}
"""


def _rotations(count: int) -> list[Rotation]:
    """Rotations like the example, each with its own zone, members, starts and an override."""
    made = []
    for index in range(count):
        people = tuple(f"person-{index}-{n}" for n in range(8))
        zone = ZoneInfo(ZONES[index % len(ZONES)])
        start = date(2026, 1, 1) + timedelta(days=index % 28)
        made.append(
            Rotation(
                name=f"rotation-{index}",
                team=f"team-{index % 37}",
                timezone=zone,
                layers=(
                    Layer(
                        "primary",
                        people[:3],
                        ShiftLength(days=7),
                        Handoff.parse("Mon 09:00"),
                        start,
                    ),
                    Layer(
                        "secondary",
                        people[3:6],
                        ShiftLength(hours=12),
                        Handoff.parse("09:00"),
                        start,
                    ),
                    Layer(
                        "manager",
                        people[6:],
                        ShiftLength(months=1),
                        Handoff.parse("1 09:00"),
                        start,
                    ),
                ),
                overrides=(
                    Override(
                        "primary",
                        people[7],
                        AT - timedelta(days=index % 5),
                        AT - timedelta(days=index % 5 - 1),
                    ),
                ),
            )
        )
    return made


def _median_ms(run: Callable[[], object]) -> tuple[float, list[float]]:
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        run()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), timings


def main() -> dict[str, object]:
    rotations = _rotations(ROTATIONS)
    on_call_ms, on_call_runs = _median_ms(lambda: [on_call(r, at=AT) for r in rotations])
    example = parse_rotation(EXAMPLE, source="example.yaml")
    year = {"start": datetime(2026, 1, 1, tzinfo=UTC), "end": datetime(2027, 1, 1, tzinfo=UTC)}
    year_ms, year_runs = _median_ms(lambda: shifts(example, **year))
    figures: dict[str, object] = {
        "rotations": ROTATIONS,
        "layers_each": 3,
        "runs": RUNS,
        "on_call_all_p50_ms": round(on_call_ms, 2),
        "on_call_all_min_ms": round(min(on_call_runs), 2),
        "on_call_per_rotation_p50_us": round(on_call_ms * 1000 / ROTATIONS, 1),
        "on_call_target_ms": 50.0,
        "year_of_shifts": len(shifts(example, **year)),
        "year_of_shifts_p50_ms": round(year_ms, 2),
        "year_of_shifts_min_ms": round(min(year_runs), 2),
        "year_of_shifts_target_ms": 20.0,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "oncall.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
