"""Slow tier: regenerate the SDK table of the template README and check it against the README.

``sdk_table.py`` bakes each SDK line, installs every mcp version of the matrix and measures
the bare SDK and the guarded app on real servers. Running it here means CI notices when the
README's table no longer matches what the versions do: the rows (versions and scenarios) and
the guarded app's columns must be what the README shows. The bare SDK's columns are not
compared, as its ERROR counts vary between runs; the bare-SDK tests in the baked suites say
when its bugs are gone.
"""

from __future__ import annotations

import sys

import pytest

from _support import SDK_MATRIX, TEMPLATE_DIR, expect_success, run

pytestmark = pytest.mark.slow

REGENERATE = ".venv/bin/python tests/measure/sdk_table.py"
SCENARIOS = 8


def _rows(text: str) -> dict[tuple[str, str], list[str]]:
    """Return the data rows of the SDK table in ``text``, keyed by (mcp version, scenario)."""
    rows = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 6 and cells[0][:1].isdigit():
            rows[cells[0], cells[1]] = cells[2:]
    return rows


def test_sdk_table_matches_the_readme_and_the_guard_never_logs_an_error() -> None:
    """Every version and scenario of the matrix is in the README, guarded columns as measured."""
    result = run([sys.executable, "tests/measure/sdk_table.py"], cwd=TEMPLATE_DIR)
    expect_success(result)  # exits 1 if a guarded cell logged an ERROR or a traceback
    measured = _rows(result.output)
    assert len(measured) == len(SDK_MATRIX) * SCENARIOS, result.describe()

    readme = (TEMPLATE_DIR / "README.md").read_text("utf-8")
    assert REGENERATE in readme
    documented = _rows(readme)
    stale = f"the README's SDK table is stale; regenerate it with `{REGENERATE}`:\n"
    assert sorted(documented) == sorted(measured), stale + result.output
    for key, cells in measured.items():
        assert documented[key][2:] == cells[2:], stale + result.output
