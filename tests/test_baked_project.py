"""Slow tier: install each baked SDK line and run the project's own checks.

This is what a user does right after baking, so it catches what static checks
cannot: dependency resolution, imports, the project's test suite, and its
strict typing. Each SDK line gets its own fresh venv made by uv (installed
from requirements-dev.txt and run as ``python -m uv``, so nothing installed by
hand is needed). The commands run in the baked project directory with the
venv's Python and a scrubbed environment, so neither this test run's venv nor
its pytest options leak in.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from _support import Bake, CommandResult, clean_env, expect_success, python_module, run

pytestmark = pytest.mark.slow

SDK_LINES = ["2.x", "1.x"]


@dataclass(frozen=True)
class Installed:
    """A baked project with its dev extra installed into its own venv."""

    path: Path
    python: Path
    env: dict[str, str]

    def run(self, *args: str) -> CommandResult:
        """Run `python -m <args>` with the project's venv, in the project dir."""
        return run([str(self.python), "-m", *args], cwd=self.path, env=self.env)


@pytest.fixture(scope="module", params=SDK_LINES, ids=[f"sdk-{sdk}" for sdk in SDK_LINES])
def installed(
    request: pytest.FixtureRequest, bake: Bake, tmp_path_factory: pytest.TempPathFactory
) -> Installed:
    """Bake the defaults for one SDK line and `uv pip install -e '.[dev]'` it."""
    sdk: str = request.param
    path = bake(tmp_path_factory.mktemp(f"installed-{sdk}"), mcp_sdk=sdk)
    venv = path / ".venv"
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    env = clean_env(
        {"VIRTUAL_ENV": str(venv), "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    )

    for command in (
        python_module("uv", "venv", "--python", sys.executable, str(venv)),
        python_module("uv", "pip", "install", "--python", str(python), "-e", ".[dev]"),
    ):
        expect_success(run(command, cwd=path, env=env))
    return Installed(path, python, env)


def test_project_test_suite_passes(installed: Installed) -> None:
    """The baked project's own pytest suite passes as generated."""
    result = installed.run("pytest", "-q", "-p", "no:cacheprovider")
    expect_success(result)


def test_project_ruff_check_passes(installed: Installed) -> None:
    """Its own ruff, with its own config, finds nothing."""
    result = installed.run("ruff", "check", ".")
    expect_success(result)


def test_project_ruff_format_passes(installed: Installed) -> None:
    """Its own ruff formatter would change nothing."""
    result = installed.run("ruff", "format", "--check", ".")
    expect_success(result)


def test_project_mypy_strict_passes(installed: Installed) -> None:
    """Its code and tests type-check under --strict (explicit, whatever the config says)."""
    result = installed.run("mypy", "--strict", "src", "tests")
    expect_success(result)
