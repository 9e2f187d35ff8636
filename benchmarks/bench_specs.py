"""`srekit slo validate` on a 50 MB spec file of srekit/v1 SLOs: wall time and peak RSS.

The file is generated in a temporary directory (120,000-odd SLOs, every other one a latency SLO
on the event store, the rest availability SLOs on Prometheus, and one policy), and validated
by a fresh `srekit` process, whose peak resident memory the kernel reports (`wait4`).

python -m benchmarks.bench_specs             # prints figures, writes benchmarks/results/specs.json
python -m benchmarks.bench_specs --mb 5      # a smaller file
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
_POLICY = """apiVersion: srekit/v1
kind: Policy
name: strict
levels:
  - state: normal
    above: 0.5
    decision: allow
  - state: frozen
    decision: deny
"""


def _slo(index: int) -> str:
    service = f"service-{index // 2:06d}"
    owner = f"team-{index // 2 % 97:03d}"
    if index % 2 == 0:
        return (
            f"---\napiVersion: srekit/v1\nkind: SLO\nservice: {service}\nname: availability\n"
            f"description: Requests of {service} that do not fail on the server side.\n"
            f"owner: {owner}\nrunbook_url: https://runbooks.example.com/{service}/availability\n"
            "objective: 99.9%\nwindow: 30d\nindicator:\n  ratio:\n"
            f'    bad: sum(rate(http_requests_total{{service="{service}",code=~"5.."}}[5m]))\n'
            f'    total: sum(rate(http_requests_total{{service="{service}"}}[5m]))\n'
            'labels:\n  tier: "1"\npolicy: strict\n'
        )
    return (
        f"---\napiVersion: srekit/v1\nkind: SLO\nservice: {service}\nname: latency\n"
        f"description: Requests of {service} served within 300 ms.\n"
        f"owner: {owner}\nobjective: 95%\nwindow: 7d\nindicator:\n  events:\n"
        "    good: duration_s <= 0.3\n    total: status < 500 AND path NOT LIKE '/health%'\n"
        'labels:\n  tier: "2"\n'
    )


def write_specs(path: Path, *, size_bytes: int) -> int:
    """A multi-document spec file of at least `size_bytes`; the number of SLOs in it."""
    count = 0
    written = len(_POLICY)
    with path.open("w", encoding="utf-8") as out:
        out.write(_POLICY)
        while written < size_bytes:
            document = _slo(count)
            out.write(document)
            written += len(document)
            count += 1
    return count


def _srekit(*args: str, scratch: Path) -> tuple[float, int, str]:
    """Run `srekit args` in a process of its own: wall seconds, peak RSS in MB, stdout."""
    code = "import sys; from srekit.cli.main import main; sys.argv[0] = 'srekit'; main()"
    out_path, err_path = scratch / "stdout", scratch / "stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-c", code, *args], stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)  # the child's own peak, from the kernel
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"srekit {' '.join(args)} failed: {err_path.read_text()}")
    return seconds, round(usage.ru_maxrss / 1024), out_path.read_text().strip()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description="spec loading benchmark")
    parser.add_argument("--mb", type=float, default=50.0, help="size of the spec file, in MB")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="srekit-bench-specs-") as directory:
        path = Path(directory) / "specs.yaml"
        slos = write_specs(path, size_bytes=int(options.mb * 1_000_000))
        size = path.stat().st_size
        seconds, peak_mb, said = _srekit(
            "slo", "validate", "-f", str(path), scratch=Path(directory)
        )
    figures: dict[str, Any] = {
        "file_mb": round(size / 1_000_000, 1),
        "slos": slos,
        "validate_s": round(seconds, 2),
        "validate_peak_rss_mb": peak_mb,
        "documents_per_s": round((slos + 1) / seconds),
        "said": said,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "specs.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
