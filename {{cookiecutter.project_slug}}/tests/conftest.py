"""Fixtures shared by the test modules: settings, real servers and a watch on the logs."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from starlette.types import ASGIApp

from {{ cookiecutter.package_name }}.app import create_app
{% if cookiecutter.auth != "none" %}
from {{ cookiecutter.package_name }}.runtime.settings import ENV_PREFIX
from {{ cookiecutter.package_name }}.settings import Settings

from . import credentials
{% else %}
from {{ cookiecutter.package_name }}.settings import Settings

{% endif %}
from .processes import Process, clean_environment
from .servers import RunningServer, serving

GUARD_LOGGER = "{{ cookiecutter.package_name }}.runtime.guard"


class LogWatch:
    """What the server logged during one test, with the questions the tests ask of it."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog

    @property
    def records(self) -> list[logging.LogRecord]:
        return list(self.caplog.records)

    def warnings(self) -> list[logging.LogRecord]:
        return [r for r in self.records if r.levelno == logging.WARNING]

    def guard_warnings(self) -> list[logging.LogRecord]:
        return [r for r in self.warnings() if r.name == GUARD_LOGGER]

    def errors(self) -> list[logging.LogRecord]:
        return [r for r in self.records if r.levelno >= logging.ERROR]

    def tracebacks(self) -> list[logging.LogRecord]:
        return [r for r in self.records if r.exc_info or "Traceback" in r.getMessage()]

    def wait_for(self, predicate: Callable[[], bool], *, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting; the log so far:\n{self.dump()}")
            time.sleep(0.02)

    def dump(self) -> str:
        return "\n".join(f"{r.levelname} {r.name}: {r.getMessage()}" for r in self.records)


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
def make_settings() -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        return Settings(**overrides)

    return make


@pytest.fixture
def server(serve: Callable[[ASGIApp], RunningServer]) -> RunningServer:
    """The service as deployed by default (SSE responses), on a real server."""
    return serve(create_app(Settings()))


@pytest.fixture
def launch() -> Iterator[Callable[..., Process]]:
    """Start processes for the test; every one is killed, if still running, when it ends."""
    started: list[Process] = []

    def start(*args: str | Path, env: dict[str, str] | None = None) -> Process:
        process = Process(args, clean_environment() if env is None else env)
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in started:
            process.stop()
