"""Fixtures shared by the test modules; the helpers they use live in ``support/``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from starlette.types import ASGIApp

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.runtime import settings as settings_module
{% if cookiecutter.auth != "none" %}
from {{ cookiecutter.package_name }}.runtime.settings import ENV_PREFIX
{% endif %}
from {{ cookiecutter.package_name }}.settings import Settings

{% if cookiecutter.auth != "none" %}
from .support import credentials
{% endif %}
from .support.logs import LogWatch
from .support.processes import NEUTRAL_CWD, Process, clean_environment
from .support.servers import RunningServer, serving
from .support.tools import installed


@pytest.fixture(scope="session", autouse=True)
def suite_tools() -> Iterator[None]:
    """Every server built in this process carries the suite's tools (``support/tools.py``)."""
    with installed():
        yield


{% if cookiecutter.auth != "none" %}
@pytest.fixture(scope="session", autouse=True)
def credentials_in_the_environment() -> Iterator[None]:
    """Every test meets the service as deployed, with authentication configured: ``Settings()``
    reads the credentials of ``credentials.py`` and ``client.py`` sends them."""
    with credentials.active(), pytest.MonkeyPatch.context() as patch:
        for name, value in credentials.environment().items():
            patch.setenv(ENV_PREFIX + name, value)
        yield


{% endif %}
@pytest.fixture(scope="session", autouse=True)
def no_env_file() -> Iterator[None]:
    """Settings read in this process ignore a developer's ``.env`` (the processes the tests
    start run elsewhere: ``processes.NEUTRAL_CWD``)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(settings_module, "ENV_FILE", Path("/nonexistent/.env"))
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


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    """The service as deployed by default (SSE responses), on a real server shared by a module.

    Tests that change settings, stall connections or stop the server start their own.
    """
    with serving(create_app(Settings())) as running:
        yield running


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
