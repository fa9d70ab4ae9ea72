"""Print what the bare SDK and the guarded app answer and log, per mcp version and scenario.

    .venv/bin/python tests/measure/sdk_table.py > table.md

For each (SDK line, mcp version) of the slow tier's matrix (``_support.SDK_MATRIX``) it bakes
the template, installs the bake into a fresh uv venv with that mcp version, and runs
``sdk_scenarios.py`` there: real uvicorn servers, raw sockets, one fresh server per scenario.
The output is the Markdown table in the template README. Exit status 1 if any guarded cell
logged an ERROR or a traceback. ``--only 1.x=1.30.0`` limits the run to some versions.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

# Run as a script from tests/measure/: the template's helpers are one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _support import SDK_MATRIX, CommandResult, bake_and_install, clean_env, run

HERE = Path(__file__).resolve().parent
SCENARIOS_SCRIPT = HERE / "sdk_scenarios.py"
PACKAGE = "my_mcp_server"  # the package name the default answers give


def measure(line: str, version: str, workdir: Path) -> list[dict[str, Any]]:
    """Bake ``line``, install it with mcp ``version``, and run the scenarios there."""
    # The project pinned to this mcp version, plus what its test helpers import (servers.py
    # reaches processes.py, which reads child processes with psutil).
    helpers = ("httpx", "pytest", "psutil")
    project = bake_and_install(workdir, line, f"mcp=={version}", *helpers)
    python = project / ".venv" / "bin" / "python"
    command = [str(python), str(SCENARIOS_SCRIPT), PACKAGE]
    result = run(command, cwd=project, env=clean_env({"VIRTUAL_ENV": str(python.parent.parent)}))
    expect_ok(result, line, version)
    rows = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    if not rows or rows[0]["version"] != version:
        raise SystemExit(f"mcp {version} ({line}): no measurements\n{result.describe()}")
    return rows


def expect_ok(result: CommandResult, line: str, version: str) -> None:
    """Stop with the command's output if it failed."""
    if result.returncode != 0:
        raise SystemExit(f"mcp {version} ({line}):\n{result.describe()}")


def describe(row: dict[str, Any]) -> tuple[str, str]:
    """Return the answer and the log of one measurement, as table cells."""
    logged = [
        f"{row['errors']} ERROR" if row["errors"] else "",
        f"{row['warnings']} WARNING" if row["warnings"] else "",
        "traceback" if row["traceback"] else "",
    ]
    return row["status"], ", ".join(part for part in logged if part) or "nothing"


def render(rows: list[dict[str, Any]]) -> str:
    """One table row per (version, scenario): bare SDK and guarded app side by side."""
    lines = [
        "| mcp | scenario | bare SDK answers | bare SDK logs | guarded answers | guarded logs |",
        "|---|---|---|---|---|---|",
    ]
    cells: dict[tuple[str, str], dict[str, tuple[str, str]]] = {}
    for row in rows:
        key = (f"{row['version']} ({row['line']})", row["scenario"])
        cells.setdefault(key, {})[row["app"]] = describe(row)
    for (version, scenario), apps in cells.items():
        bare, guarded = apps["bare"], apps["guarded"]
        lines.append(f"| {version} | {scenario} | {' | '.join(bare)} | {' | '.join(guarded)} |")
    return "\n".join(lines)


def main() -> int:
    """Measure the matrix (or the --only cells) and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], metavar="LINE=VERSION")
    args = parser.parse_args()
    cells = [(line, version) for line, version in SDK_MATRIX if f"{line}={version}" in args.only]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="sdk-table-") as tmp:
        for line, version in cells or SDK_MATRIX:
            rows += measure(line, version, Path(tmp))
    print(render(rows))
    noisy = [row for row in rows if row["app"] == "guarded" and (row["errors"] or row["traceback"])]
    for row in noisy:
        print(f"guarded app logged an ERROR: {row}", file=sys.stderr)
    return 1 if noisy else 0


if __name__ == "__main__":
    sys.exit(main())
