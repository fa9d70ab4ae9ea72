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

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.runtime.settings import JsonResponse
from {{ cookiecutter.package_name }}.settings import Settings

from ..support.logs import LogWatch
from ..support.processes import NEUTRAL_CWD, Process, clean_environment
from ..support.servers import AnswerRoute, RunningServer, serving
from ..support.tools import installed

# JSON_RESPONSE's values: the default, which answers with JSON or a stream as each request
# needs, and each kind forced. The request path keeps its guarantees for all three.
ANSWER_MODES = [
    pytest.param("auto", id="auto"),
    pytest.param(True, id="json"),
    pytest.param(False, id="sse"),
]
# Each way a POST is answered: the default's two (JSON, or a stream for a call that asks for
# progress) and each kind forced (whether the call asks makes no difference there).
ANSWER_ROUTES = [
    pytest.param(AnswerRoute("auto", progress=False), id="auto-json"),
    pytest.param(AnswerRoute("auto", progress=True), id="auto-stream"),
    pytest.param(AnswerRoute(True, progress=False), id="json"),
    pytest.param(AnswerRoute(False, progress=False), id="sse"),
]


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


@pytest.fixture(params=ANSWER_MODES)
def answer_mode(request: pytest.FixtureRequest) -> JsonResponse:
    """Each value of JSON_RESPONSE in turn, for a test that builds its own app."""
    mode: JsonResponse = request.param
    return mode


@pytest.fixture(scope="module", params=ANSWER_MODES)
def server_in_each_mode(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    """The service with each value of JSON_RESPONSE in turn, shared by a module's tests."""
    with serving(create_app(Settings(json_response=request.param))) as running:
        yield running


@pytest.fixture(params=ANSWER_ROUTES)
def answer_route(request: pytest.FixtureRequest) -> AnswerRoute:
    """Each way a POST is answered in turn, for a test that builds its own app."""
    route: AnswerRoute = request.param
    return route
