"""The team's: tests of the examples of ``tools.py``, replaced by the team's own tests.

These are the pattern for testing a team's tools, resources and prompts (one file or several
beside this one, in ``tests/``; the template's own tests are in ``runtime/``).

Tools are called through the MCP SDK's own in-memory client, with what they share opened for
the test (``shared.opened``) and an upstream of the test's own (a fake PyPI on a local port);
resource and prompt functions are plain Python, called directly, and their registration is
checked on the server. No HTTP to the service here (the request path has tests of its own, with
tools of their own): these tests pin down what the examples do and how the SDK presents them
(schema validation, structured results, progress, failures), so a failure points at the tools
or at an SDK upgrade, not at the transport. Bad arguments must come back as a tool error the
model can read and correct, never as a protocol error or an exception that kills the session.
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from pydantic import HttpUrl
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from {{ cookiecutter.package_name }} import SERVER_NAME, __version__
from {{ cookiecutter.package_name }}.app import create_server
from {{ cookiecutter.package_name }}.runtime.sdk import SDK_VERSION, Server
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.shared import shared
from {{ cookiecutter.package_name }}.tools import review_code, service_info

from .support.client import (
    RESOURCE_NOT_FOUND_IN_MEMORY,
    ProtocolError,
    Session,
    call_tool,
    in_memory,
    list_tool_names,
    read_resource,
)
from .support.servers import RunningServer, serving

# The quick loop (README, Development): keep these in the test process.
pytestmark = [pytest.mark.anyio, pytest.mark.quick]

# What the fake PyPI knows, in the shape of PyPI's JSON API (GET /pypi/<name>/json).
HTTPX = {
    "info": {
        "name": "httpx",
        "version": "0.28.1",
        "summary": "The next generation HTTP client.",
        "project_urls": {"Homepage": "https://github.com/encode/httpx"},
    }
}
FAILING_PACKAGE = "broken"  # the fake PyPI answers 503 for it


class FakePyPI:
    """A local stand-in for PyPI's JSON API, which remembers who asked."""

    def __init__(self) -> None:
        self.clients: list[tuple[str, int]] = []
        self.app = Starlette(routes=[Route("/pypi/{name}/json", self.package)])

    async def package(self, request: Request) -> JSONResponse:
        assert request.client is not None
        self.clients.append((request.client.host, request.client.port))
        name = request.path_params["name"]
        if name == FAILING_PACKAGE:
            return JSONResponse({"message": "Service Unavailable"}, status_code=503)
        if name != "httpx":
            return JSONResponse({"message": "Not Found"}, status_code=404)
        return JSONResponse(HTTPX)


@pytest.fixture(scope="module")
def pypi_server() -> Iterator[tuple[FakePyPI, RunningServer]]:
    fake = FakePyPI()
    with serving(fake.app) as running:
        yield fake, running


@pytest.fixture
def pypi(pypi_server: tuple[FakePyPI, RunningServer]) -> FakePyPI:
    fake, _ = pypi_server
    fake.clients.clear()
    return fake


@pytest.fixture
def settings(pypi_server: tuple[FakePyPI, RunningServer]) -> Settings:
    """The service's settings, with the fake PyPI as the upstream."""
    return Settings(pypi_url=HttpUrl(pypi_server[1].base_url))


@pytest.fixture
def mcp_server(settings: Settings) -> Server:
    """The SDK's server with this module's tools, resources and prompts, as the app builds it."""
    return create_server(settings)


@pytest.fixture
async def session(mcp_server: Server, settings: Settings) -> AsyncIterator[Session]:
    """A client connected to that server in memory, through the SDK's own client, with what the
    tools share opened as the running service opens it."""
    async with shared.opened(settings), in_memory(mcp_server) as client:
        yield client


async def test_lists_the_example_tools(session: Session) -> None:
    """Every example is registered (on 2.x, ``test_asking.py`` checks the tool that asks)."""
    assert {"add", "long_task", "package_info"} <= set(await list_tool_names(session))


async def test_register_tools_adds_the_example_resource_and_prompt(mcp_server: Server) -> None:
    resources = await mcp_server.list_resources()
    assert [str(resource.uri) for resource in resources] == ["info://service"]
    templates = await mcp_server.list_resource_templates()
    assert [template.name for template in templates] == ["package_resource"]
    prompts = await mcp_server.list_prompts()
    assert [prompt.name for prompt in prompts] == ["review_code"]
    arguments = [(argument.name, argument.required) for argument in prompts[0].arguments or []]
    assert arguments == [("code", True), ("language", False)]


def test_service_info_names_the_service_and_the_sdk_it_runs_on() -> None:
    """A resource function is plain Python: test it by calling it."""
    info = json.loads(service_info())
    assert info == {"name": SERVER_NAME, "version": __version__, "mcp_sdk": SDK_VERSION}


def test_review_code_puts_the_code_and_its_language_in_the_prompt() -> None:
    prompt = review_code("print(1)", language="python")
    assert prompt.startswith("Review this python code")
    assert prompt.endswith("\n\nprint(1)")
    assert "rust code" in review_code("fn main() {}", language="rust")


async def test_add_returns_the_sum_as_text_and_structured_content(session: Session) -> None:
    outcome = await call_tool(session, "add", {"a": 2, "b": 3})
    assert not outcome.is_error
    assert outcome.structured == {"result": 5.0}
    assert float(outcome.text) == 5


async def test_add_accepts_floats(session: Session) -> None:
    outcome = await call_tool(session, "add", {"a": 0.5, "b": -2.25})
    assert not outcome.is_error
    assert outcome.structured == {"result": -1.75}


async def test_long_task_reports_every_step_then_returns(session: Session) -> None:
    """Progress is how a client knows a slow call is alive; each step must arrive, in order."""
    reports: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reports.append((progress, total, message))

    outcome = await call_tool(session, "long_task", {"seconds": 0.05, "steps": 3}, on_progress)

    assert not outcome.is_error, outcome.text
    assert outcome.text == "done after 0.05 seconds in 3 steps"
    assert reports == [
        (1, 3, "step 1 of 3"),
        (2, 3, "step 2 of 3"),
        (3, 3, "step 3 of 3"),
    ]


async def test_long_task_defaults_to_five_steps(session: Session) -> None:
    outcome = await call_tool(session, "long_task", {"seconds": 0})
    assert not outcome.is_error, outcome.text
    assert outcome.text == "done after 0 seconds in 5 steps"


@pytest.mark.parametrize(
    ("tool", "arguments", "field"),
    [
        pytest.param("long_task", {"seconds": -1}, "seconds", id="negative-seconds"),
        pytest.param("long_task", {"seconds": 601}, "seconds", id="seconds-over-limit"),
        pytest.param("long_task", {"seconds": 0, "steps": 0}, "steps", id="zero-steps"),
        pytest.param("long_task", {"seconds": 0, "steps": 101}, "steps", id="too-many-steps"),
        pytest.param("add", {"b": 3}, "a", id="missing-a"),
        pytest.param("add", {"a": "two", "b": 3}, "a", id="a-not-a-number"),
    ],
)
async def test_invalid_arguments_are_a_tool_error_naming_the_field(
    session: Session, tool: str, arguments: dict[str, Any], field: str
) -> None:
    """The model sees which argument was wrong and can retry; the session stays usable."""
    outcome = await call_tool(session, tool, arguments)
    assert outcome.is_error
    assert field in outcome.text
    assert outcome.structured is None
    assert (await call_tool(session, "add", {"a": 1, "b": 1})).structured == {"result": 2.0}


async def test_an_unknown_tool_is_invalid_params(session: Session) -> None:
    """A name the server does not have is a protocol error (the specification's -32602)."""
    with pytest.raises(ProtocolError) as raised:
        await session.call_tool("no_such_tool", {})
    assert raised.value.error.code == -32602
    assert raised.value.error.message == "Unknown tool: no_such_tool"


async def test_add_reports_a_sum_too_large_as_a_tool_error(session: Session) -> None:
    """An expected failure: the model reads the tool's own message and can try otherwise."""
    outcome = await call_tool(session, "add", {"a": 1e308, "b": 1e308})
    assert outcome.is_error
    assert "the sum of 1e+308 and 1e+308 is too large to represent" in outcome.text


async def test_package_info_returns_the_latest_release(session: Session) -> None:
    outcome = await call_tool(session, "package_info", {"name": "httpx"})
    assert not outcome.is_error, outcome.text
    assert outcome.structured == {
        "name": "httpx",
        "version": "0.28.1",
        "summary": "The next generation HTTP client.",
        "home_page": "https://github.com/encode/httpx",
    }


async def test_package_info_calls_share_one_client(session: Session, pypi: FakePyPI) -> None:
    """Three calls, one connection to the upstream: the process's client keeps it open."""
    for _ in range(3):
        assert not (await call_tool(session, "package_info", {"name": "httpx"})).is_error
    assert len(pypi.clients) == 3
    assert len(set(pypi.clients)) == 1, pypi.clients


async def test_package_info_of_a_missing_package_is_a_tool_error_naming_it(
    session: Session,
) -> None:
    outcome = await call_tool(session, "package_info", {"name": "no-such-package"})
    assert outcome.is_error
    assert "PyPI has no package named 'no-such-package'" in outcome.text


async def test_package_info_says_when_pypi_fails(session: Session) -> None:
    outcome = await call_tool(session, "package_info", {"name": FAILING_PACKAGE})
    assert outcome.is_error
    assert "PyPI answered HTTP 503" in outcome.text


async def test_package_info_says_when_pypi_does_not_answer(mcp_server: Server) -> None:
    with socket.socket() as unused:  # a port nothing listens on: connections are refused
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    settings = Settings(pypi_url=HttpUrl(f"http://127.0.0.1:{port}"))
    async with shared.opened(settings), in_memory(mcp_server) as session:
        outcome = await call_tool(session, "package_info", {"name": "httpx"})
    assert outcome.is_error
    assert "PyPI did not answer (ConnectError)" in outcome.text


async def test_package_info_refuses_a_name_pypi_cannot_have(
    session: Session, pypi: FakePyPI
) -> None:
    outcome = await call_tool(session, "package_info", {"name": "../admin"})
    assert outcome.is_error
    assert "name" in outcome.text
    assert pypi.clients == []  # refused before anything was sent


async def test_the_package_resource_is_the_package_as_json(session: Session) -> None:
    result = await read_resource(session, "pypi://httpx")
    (content,) = result.contents
    assert json.loads(getattr(content, "text", "")) == {
        "name": "httpx",
        "version": "0.28.1",
        "summary": "The next generation HTTP client.",
        "home_page": "https://github.com/encode/httpx",
    }


async def test_a_missing_package_resource_is_not_found(session: Session) -> None:
    """The resource template's function raises NotFound: the client gets the code for a
    resource the server does not have, and the message."""
    with pytest.raises(ProtocolError) as raised:
        await read_resource(session, "pypi://no-such-package")
    assert raised.value.error.code == RESOURCE_NOT_FOUND_IN_MEMORY
    assert raised.value.error.message == "PyPI has no package named 'no-such-package'"
