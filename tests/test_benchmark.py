"""The benchmark script still runs, on both SDK lines, and its storm leaves the bake clean.

A short run (figures are not asserted: they belong to ``tests/measure/benchmark.py`` run on
demand, whose latest table is in the README). What is asserted holds at any speed: every call
wrk sent was answered with success, the storm of cut-short requests left the bake with no
ERROR line and no traceback, and the bake with an OTLP exporter sent its spans.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

from _support import TEMPLATE_DIR, clean_env, run, unavailable

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("benchmark")]

SCRIPT = Path(__file__).resolve().parent / "measure" / "benchmark.py"
ROW = re.compile(r"^\| (2\.x|1\.x) \(mcp [\d.]+\) \| (.+) \|$", re.MULTILINE)


def test_benchmark_runs_and_the_bake_survives_its_storm_cleanly() -> None:
    """Run the benchmark briefly on both lines and read its tables."""
    if shutil.which("wrk") is None:
        unavailable("no wrk, the benchmark's load generator", "apt-get install -y wrk")
    args = ["--duration", "1", "--rounds", "1", "--storm", "128", "--connections", "4", "--traces"]
    result = run([sys.executable, str(SCRIPT), *args], cwd=TEMPLATE_DIR, env=clean_env())
    assert result.returncode == 0, result.describe()
    rows = [(line, cells.split(" | ")) for line, cells in ROW.findall(result.output)]
    throughput = [(line, cells) for line, cells in rows if cells[0] in {"SSE", "JSON"}]
    storms = [(line, cells) for line, cells in rows if cells[0] in {"bake", "bare"}]
    traced = [
        (line, cells) for line, cells in rows if cells[0] not in {"SSE", "JSON", "bake", "bare"}
    ]
    assert sorted((line, cells[0]) for line, cells in throughput) == [
        ("1.x", "JSON"),
        ("1.x", "SSE"),
        ("2.x", "JSON"),
        ("2.x", "SSE"),
    ], result.output
    for _, cells in throughput:
        assert cells[-1] == "0 / 0", result.output  # no failed call, bake or bare
    bake_storms = [cells for _, cells in storms if cells[0] == "bake"]
    assert len(bake_storms) == 2, result.output
    for cells in bake_storms:
        assert cells[1:3] == ["0", "0"], result.output  # no ERROR line, no traceback
    assert sorted(line for line, _ in traced) == ["1.x", "2.x"], result.output
    for _, cells in traced:
        assert cells[-1] == "0 / 0", result.output  # no failed call, without or with traces
        assert int(cells[-2].split(" / ")[0]) > 0, result.output  # batches of spans sent
