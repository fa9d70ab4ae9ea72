"""The chaos run, short: replicas of two workers behind nginx lose no call while things go wrong.

``tests/measure/chaos.py`` runs for a minute here, with restarts, worker kills and replica
kills every few seconds, and must exit 0: no call lost outside a SIGKILL, every injected fault
answered as the bake's faults table says, no unexpected ERROR, every SIGTERM an exit 0. Its
figures are recorded; the README holds the latest ten-minute run's.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from _support import TEMPLATE_DIR, Bake, clean_env, run, unavailable
from measure.cluster import install, nginx_binary

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("scale")]

SCRIPT = Path(__file__).resolve().parent / "measure" / "chaos.py"
ROW = re.compile(r"^\| (.+?) \| (.+) \|$", re.MULTILINE)


def test_a_short_chaos_run_loses_no_call_outside_a_sigkill(
    bake: Bake, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    """One minute of load, faults, rolling restarts and kills, each kind at least once."""
    if nginx_binary() is None:
        unavailable("no nginx to put in front of the replicas", "apt-get install -y nginx")
    project = bake(tmp_path)
    install(project)
    args = ["--seconds", "60", "--restart-every", "15", "--kill-worker-every", "20"]
    args += ["--kill-replica-every", "35", "--project", str(project)]
    result = run([sys.executable, str(SCRIPT), *args], cwd=TEMPLATE_DIR, env=clean_env())
    figures = dict(ROW.findall(result.output))
    assert result.returncode == 0, result.describe()
    assert figures["calls lost"] == "0", result.output
    # Each kind of chaos came, and load and faults ran through it.
    kills = [int(count) for count in figures["workers SIGKILLed / replicas SIGKILLed"].split(" / ")]
    assert min(kills) > 0, result.output
    assert "SIGTERM (rolling restart): exit 0" in figures["exits"], result.output
    assert int(figures["faults injected, answered as documented"]) > 50, result.output
    record_property(
        "figure",
        "chaos, 60 s: "
        + "; ".join(f"{what}: {count}" for what, count in figures.items() if what != "what"),
    )
