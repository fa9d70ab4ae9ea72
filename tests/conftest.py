"""Fixtures that bake the template through cookiecutter's Python API.

Baking in-process is much faster than the CLI, and hook failures surface as
``FailedHookException`` that tests can assert on. Every bake uses a private
cookiecutter config so a developer's ``~/.cookiecutterrc`` (whose
``default_context`` would change the answers) cannot affect the tests, and
replay files land in a temporary directory instead of the home directory.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _support import Bake


@pytest.fixture(scope="session")
def cookiecutter_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Write a cookiecutter config that points all its state at a temp dir."""
    home = tmp_path_factory.mktemp("cookiecutter-home")
    config = home / "config.yaml"
    # JSON strings are valid YAML scalars and survive any characters in paths.
    config.write_text(
        f"cookiecutters_dir: {json.dumps(str(home / 'cookiecutters'))}\n"
        f"replay_dir: {json.dumps(str(home / 'replay'))}\n",
        encoding="utf-8",
    )
    return config


@pytest.fixture(scope="session")
def bake(cookiecutter_config: Path) -> Bake:
    """Provide the baker; session-scoped so module-scoped fixtures can use it."""
    return Bake(cookiecutter_config)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the figures tests recorded with ``record_property("figure", ...)``.

    Figures are reported, not asserted; properties travel with the test reports, so this works
    under pytest-xdist too, where a worker's own output is not shown.
    """
    figures = [
        str(value)
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"
        for name, value in getattr(report, "user_properties", ())
        if name == "figure"
    ]
    if figures:
        terminalreporter.write_sep("-", "figures")
        for line in figures:
            terminalreporter.write_line(line)
