"""The template's: fixtures for the tests of its machinery (``runtime/`` of the package).

Every server these tests start carries the suite's own tools, so no test here depends on the
team's; the fixtures every test needs, the team's included, are in ``tests/conftest.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from starlette.types import ASGIApp

from ..support.logs import LogWatch
from ..support.processes import NEUTRAL_CWD, Process, clean_environment
from ..support.servers import RunningServer, serving
from ..support.tools import installed


@pytest.fixture(scope="session", autouse=True)
def suite_tools() -> Iterator[None]:
    """Every server built in this process carries the suite's tools (``support/tools.py``)."""
    with installed():
        yield


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> LogWatch:
    caplog.set_level(logging.INFO)
    return LogWatch(caplog)


@pytest.fixture
def serve() -> Iterator[Callable[[ASGIApp], RunningServer]]:
    """Start real servers for the test; every one is stopped when the test ends."""
    with ExitStack() as stack:

        def start(app: ASGIApp) -> RunningServer:
            return stack.enter_context(serving(app))

        yield start


@pytest.fixture
def launch() -> Iterator[Callable[..., Process]]:
    """Start processes for the test; every one is killed, if still running, when it ends."""
    started: list[Process] = []

    def start(
        *args: str | Path, env: dict[str, str] | None = None, cwd: Path = NEUTRAL_CWD
    ) -> Process:
        process = Process(args, clean_environment() if env is None else env, cwd)
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in started:
            process.stop()
