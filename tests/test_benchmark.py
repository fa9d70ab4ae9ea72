"""The benchmark script still runs, on both SDK lines, and its storm leaves the bake clean.

A short run (figures are not asserted: they belong to ``tests/measure/benchmark.py`` run on
demand, whose latest table is in the README). What is asserted holds at any speed: every
server it compares answered every call wrk sent with success, for every kind of request, the
storm of cut-short requests left the bake with no ERROR line and no traceback, and the bake
with an OTLP exporter sent its spans.
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
REVISION = re.compile(r"\d{4}-\d{2}-\d{2}, ")
SERVERS = [
    "bake (default)",
    "bake, JSON_RESPONSE=true",
    "bake, JSON_RESPONSE=false",
    "bare SDK, JSON",
    "bare SDK, SSE (default)",
    "TypeScript SDK, JSON",
    "TypeScript SDK, SSE (default)",
    "FastMCP (default)",
    "ceiling: raw ASGI on uvicorn",
]
WITH_PROGRESS = ["bake (default)", "bake, JSON_RESPONSE=false", "bare SDK, SSE (default)"]
IN_2026 = SERVERS[:5]


def test_benchmark_runs_and_the_bake_survives_its_storm_cleanly() -> None:
    """Run the benchmark briefly on both lines and read its tables."""
    for tool, package in (("wrk", "wrk"), ("taskset", "util-linux"), ("node", "nodejs npm")):
        if shutil.which(tool) is None:
            unavailable(f"no {tool}, which the benchmark needs", f"apt-get install -y {package}")
    args = ["--duration", "1", "--rounds", "1", "--storm", "128", "--connections", "4", "--traces"]
    result = run([sys.executable, str(SCRIPT), *args], cwd=TEMPLATE_DIR, env=clean_env())
    assert result.returncode == 0, result.describe()
    rows = [(line, cells.split(" | ")) for line, cells in ROW.findall(result.output)]
    # A throughput row starts with the request (its protocol revision), a storm row with a
    # server, a traces row with a figure.
    throughput = [(line, cells) for line, cells in rows if REVISION.match(cells[0])]
    storms = [(line, cells) for line, cells in rows if cells[0][0].isalpha()]
    traced = [(line, cells) for line, cells in rows if re.fullmatch(r"[\d,]+", cells[0])]
    measured = sorted((line, cells[0], cells[1]) for line, cells in throughput)
    expected = [
        (line, request, server)
        for line in ("2.x", "1.x")
        for request, servers in (
            ("2025-11-25, no progress", SERVERS),
            ("2025-11-25, progress token", WITH_PROGRESS),
            *([("2026-07-28, no progress", IN_2026)] if line == "2.x" else []),
        )
        for server in servers
    ]
    assert measured == sorted(expected), result.output
    for _, cells in throughput:
        assert cells[-1] == "0", result.output  # no failed call
    bake_storms = [cells for _, cells in storms if cells[0] == "bake (default)"]
    assert len(bake_storms) == 2, result.output
    for cells in bake_storms:
        assert cells[1:3] == ["0", "0"], result.output  # no ERROR line, no traceback
    assert sorted(line for line, _ in traced) == ["1.x", "2.x"], result.output
    for _, cells in traced:
        assert cells[-1] == "0 / 0", result.output  # no failed call, without or with traces
        assert int(cells[-2].split(" / ")[0]) > 0, result.output  # batches of spans sent
