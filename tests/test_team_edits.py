"""Slow tier: a team's first edit, replacing the example tools with its own, breaks nothing.

The one contract between a team's ``tools.py`` and the rest of the bake is
``register_tools(server)``. This test bakes each SDK line, replaces ``tools.py`` with a module
that shares nothing with the examples (other tools, a resource and a prompt, registered through
the SDK's own decorators, not the template's registry), deletes the examples' own test file, and
runs what a team runs: the bake's test suite, ruff and ``mypy --strict``. Every guarantee of the
request path must still be tested, with tools the tests bring themselves.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from _support import SDK_NEWEST, Bake, clean_env, expect_success, python_module, run

pytestmark = pytest.mark.slow

TEAM_TOOLS = '''\
"""Weather lookups: the tools, resource and prompt of our service."""

from __future__ import annotations

from .runtime.sdk import Server

TEMPERATURES = {"paris": 12.5, "oslo": -3.0}


def register_tools(server: Server) -> None:
    """Add the weather tools, the list of cities and the forecast prompt."""

    @server.tool()
    def current_temperature(city: str) -> float:
        """The temperature in a city, in degrees Celsius."""
        return TEMPERATURES[city.lower()]

    @server.resource("weather://cities")
    def cities() -> str:
        """The cities we know the weather of, comma-separated."""
        return ",".join(sorted(TEMPERATURES))

    @server.prompt()
    def forecast_request(city: str) -> str:
        """Ask for tomorrow's forecast."""
        return f"What will the weather be in {city} tomorrow?"
'''


@pytest.mark.parametrize(
    "line",
    [pytest.param(line, marks=pytest.mark.xdist_group(f"team-{line}")) for line in SDK_NEWEST],
)
def test_replacing_the_examples_keeps_the_suite_ruff_and_mypy_green(
    line: str, bake: Bake, tmp_path: Path
) -> None:
    """Bake, swap in the team's tools.py, drop test_tools.py, then run the bake's checks."""
    path = bake(tmp_path, mcp_sdk=line)
    package = path / "src" / "my_mcp_server"
    (package / "tools.py").write_text(TEAM_TOOLS, encoding="utf-8")
    (path / "tests" / "test_tools.py").unlink()

    venv = path / ".venv"
    python = venv / "bin" / "python"
    env = clean_env({"VIRTUAL_ENV": str(venv), "PATH": f"{venv / 'bin'}:{os.environ['PATH']}"})
    expect_success(run(python_module("uv", "venv", "--python", sys.executable, str(venv)), path))
    install = python_module("uv", "pip", "install", "--python", str(python), "-e", ".[dev]")
    expect_success(run(install, cwd=path, env=env))
    for check in (
        ["pytest", "-q", "-p", "no:cacheprovider"],
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["mypy", "--strict", "src", "tests"],
    ):
        expect_success(run([str(python), "-m", *check], cwd=path, env=env))
