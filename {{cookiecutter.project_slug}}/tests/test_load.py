"""Load with faults mixed in: hundreds of cut-short requests among valid calls.

Against the real process: every valid call gets its correct answer, each cut-short request
costs exactly one WARNING, nothing is logged at ERROR, and resident memory settles back to
within a few MB of where it was. The benchmark ``benchmarks/storm.py`` runs the same storm at
larger scale and prints figures; this test only holds the line.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import pytest

from .storm import EARLY_DISCONNECT, resident_kib, storm
from .support.processes import MODULE, Process, clean_environment, service_port

TRUNCATED = 300
VALID = 100
# Settled memory may differ from before by allocator noise, never by a leak per request.
RSS_TOLERANCE_KIB = 8 * 1024

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux", reason="reads resident memory from /proc"),
]


def early_disconnects(process: Process) -> int:
    return sum(EARLY_DISCONNECT in line for line in process.stderr)


def test_storm_of_cut_short_requests_among_valid_calls(launch: Callable[..., Process]) -> None:
    process = launch(*MODULE, "--port", "0", env=clean_environment(JSON_RESPONSE="true"))
    port = service_port(process)

    warm_up = storm(port, truncated=60, valid=60)
    assert warm_up.wrong == [], warm_up.wrong[:5]
    deadline = time.monotonic() + 30
    while early_disconnects(process) < 60 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1)
    before = resident_kib(process.popen.pid)

    result = storm(port, truncated=TRUNCATED, valid=VALID)

    assert result.wrong == [], result.wrong[:5]
    assert result.correct == VALID
    deadline = time.monotonic() + 30
    while early_disconnects(process) < 60 + TRUNCATED and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1)
    after = resident_kib(process.popen.pid)
    assert early_disconnects(process) == 60 + TRUNCATED, process.output()[-3000:]
    # Every WARNING is the guard's, one per cut-short request (a dependency's startup warning,
    # logged as py.warnings, is not about requests).
    warnings = [
        line for line in process.stderr if " WARNING " in line and "py.warnings" not in line
    ]
    assert len(warnings) == 60 + TRUNCATED, "\n".join(warnings[:5])
    assert not [line for line in process.stderr if " ERROR " in line], process.output()[-3000:]
    assert "Traceback" not in process.output()
    assert after - before < RSS_TOLERANCE_KIB, f"resident memory grew from {before} to {after} KiB"
