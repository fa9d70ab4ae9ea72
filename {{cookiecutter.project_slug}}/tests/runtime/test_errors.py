"""Failures by intent (``runtime/errors.py``), the same on both SDK lines and revisions.

Tools, over HTTP through the SDK's own client: an expected failure (the seam's ``ToolError``)
reaches the client with its message and leaves one INFO line; a bug reaches the client as a
generic tool error that leaks nothing and leaves one ERROR with the traceback. Both name the
tool and the request id, the one the request's access line names too.

Resources and prompts, over raw HTTP in every revision this line speaks: ``NotFound`` and
``ResourceError`` reach the client with their message and the specification's code and leave
one INFO line; a bug gets -32603 with the request id and one ERROR with the traceback.

A client's mistakes about names and arguments (unknown tools, prompts, resources and methods,
arguments that are missing, unknown or of the wrong type, a URI that a resource template cannot
fill) get the specification's JSON-RPC code, and no ERROR. What was registered through the
SDK's own API gets all of this too.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import anyio
import pytest

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.runtime.sdk import NotFound, Server
from {{ cookiecutter.package_name }}.settings import Settings

from ..support.client import PROTOCOLS, ToolOutcome, call_tool, over_http
from ..support.logs import LogWatch
from ..support.processes import PACKAGE
from ..support.rpc import METHOD_NOT_FOUND, rpc_request, send
from ..support.servers import RunningServer
from ..support.tools import (
    BUG,
    EXPECTED_FAILURE,
    FAILING,
    MISSING,
    PROMPT,
    QUICK,
    UNAVAILABLE,
)

pytestmark = pytest.mark.quick  # the quick loop (README, Development)

TOOLS_LOGGER = f"{PACKAGE}.tools"
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603


def call_failing(server: RunningServer, kind: str) -> ToolOutcome:
    async def scenario() -> ToolOutcome:
        async with over_http(server.mcp_url) as session:
            return await call_tool(session, FAILING, {"kind": kind})

    return anyio.run(scenario)


def access_line(logs: LogWatch) -> logging.LogRecord:
    """The access line of the one tools/call the test made."""

    def calls() -> list[logging.LogRecord]:
        lines = logs.access_lines()
        return [r for r in lines if getattr(r, "rpc_method", None) == "tools/call"]

    logs.wait_for(lambda: bool(calls()))
    (line,) = calls()
    return line


def test_an_expected_failure_reaches_the_client_and_logs_one_info_line(
    server: RunningServer, logs: LogWatch
) -> None:
    outcome = call_failing(server, "expected")

    assert outcome.is_error
    assert outcome.text == f"Error executing tool {FAILING}: {EXPECTED_FAILURE}"
    line = access_line(logs)
    assert line.outcome == "tool_error"  # type: ignore[attr-defined]
    (failure,) = [r for r in logs.records if r.name == TOOLS_LOGGER]
    assert failure.levelno == logging.INFO
    assert failure.getMessage() == (
        f"tool {FAILING} failed: {EXPECTED_FAILURE} (request {line.request_id})"  # type: ignore[attr-defined]
    )
    assert logs.errors() == [], logs.dump()
    assert logs.tracebacks() == [], logs.dump()


def test_a_bug_reaches_the_client_as_a_generic_error_and_logs_one_traceback(
    server: RunningServer, logs: LogWatch
) -> None:
    outcome = call_failing(server, "bug")

    line = access_line(logs)
    request_id = line.request_id  # type: ignore[attr-defined]
    assert outcome.is_error
    assert outcome.text == (
        f"Error executing tool {FAILING}: internal error; the server log has the details "
        f"(request {request_id})"
    )
    assert BUG not in outcome.text
    assert line.outcome == "tool_error"  # type: ignore[attr-defined]
    (error,) = logs.errors()
    assert error.name == TOOLS_LOGGER
    assert error.getMessage() == (
        f"tool {FAILING} raised an unexpected exception (request {request_id})"
    )
    assert error.exc_info is not None
    assert isinstance(error.exc_info[1], ValueError)
    assert str(error.exc_info[1]) == BUG
    assert logs.tracebacks() == [error], logs.dump()


@pytest.mark.parametrize("kind", ["expected", "bug"])
def test_the_session_stays_usable_after_a_tool_error(server: RunningServer, kind: str) -> None:
    async def scenario() -> tuple[ToolOutcome, ToolOutcome]:
        async with over_http(server.mcp_url) as session:
            failed = await call_tool(session, FAILING, {"kind": kind})
            added = await call_tool(session, "suite_add", {"a": 1, "b": 2})
            return failed, added

    failed, added = anyio.run(scenario)
    assert failed.is_error
    assert not added.is_error
    assert added.structured == {"result": 3.0}


# --- resources, prompts and a client's mistakes, in every revision --------------------------


def not_found_code(protocol: str) -> int:
    """The code for a resource the server does not have: -32002 until 2026-07-28 made it
    invalid params (SEP-2164)."""
    return INVALID_PARAMS if protocol >= "2026-07-28" else -32002


def ask(server: RunningServer, protocol: str, method: str, params: dict[str, Any]) -> Any:
    """One JSON-RPC request over raw HTTP, on an idle server; the JSON-RPC answer, once the
    server is idle again (and has logged all it will about the request)."""
    server.settle()
    answer = send(server.mcp_url, *rpc_request(method, params, protocol=protocol, request_id=3))
    server.settle()
    return answer.message


def tool_line(logs: LogWatch) -> logging.LogRecord:
    """The one line about a tool, resource or prompt the test's request left."""
    lines = [r for r in logs.records if r.name == TOOLS_LOGGER]
    assert len(lines) == 1, logs.dump()
    return lines[0]


def request_id(logs: LogWatch) -> str:
    """The request id of the one request whose access line the test's log has."""
    (line,) = logs.access_lines()
    return str(line.request_id)  # type: ignore[attr-defined]


def prompt(topic: str = "tea", **arguments: str) -> dict[str, Any]:
    return {"name": PROMPT, "arguments": {"topic": topic, **arguments}}


Expect = Callable[[str], tuple[int, str]]

MISTAKES: list[Any] = [
    pytest.param(
        "tools/call",
        {"name": "no_such_tool", "arguments": {}},
        lambda p: (INVALID_PARAMS, "Unknown tool: no_such_tool"),
        id="unknown-tool",
    ),
    pytest.param(
        "prompts/get",
        {"name": "no_such_prompt"},
        lambda p: (INVALID_PARAMS, "Unknown prompt: no_such_prompt"),
        id="unknown-prompt",
    ),
    pytest.param(
        "prompts/get",
        {"name": PROMPT, "arguments": {}},
        lambda p: (INVALID_PARAMS, f"Missing required arguments for prompt {PROMPT}: topic"),
        id="prompt-argument-missing",
    ),
    pytest.param(
        "prompts/get",
        prompt(colour="red"),
        lambda p: (INVALID_PARAMS, f"Unknown arguments for prompt {PROMPT}: colour"),
        id="prompt-argument-unknown",
    ),
    pytest.param(
        "prompts/get",
        prompt(times="twice"),
        lambda p: (
            INVALID_PARAMS,
            f"Invalid arguments for prompt {PROMPT}: invalid arguments: times",
        ),
        id="prompt-argument-mistyped",
    ),
    pytest.param(
        "resources/read",
        {"uri": "suite://nothing/here"},
        lambda p: (not_found_code(p), "Unknown resource: suite://nothing/here"),
        id="unknown-resource",
    ),
    pytest.param(
        "resources/read",
        {"uri": "suite://numbers/seven"},
        lambda p: (not_found_code(p), "Unknown resource: suite://numbers/seven"),
        id="resource-template-miss",
    ),
]


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("arguments", [{"a": 1}, {"a": "one", "b": 2}], ids=["missing", "mistyped"])
def test_a_tool_s_bad_arguments_are_a_tool_error_the_model_can_correct(
    server: RunningServer, logs: LogWatch, protocol: str, arguments: dict[str, Any]
) -> None:
    """SEP-1303: a tool's arguments are checked by the tool, so the model sees what to fix."""
    answer = ask(server, protocol, "tools/call", {"name": QUICK, "arguments": arguments})

    assert answer["result"]["isError"] is True, answer
    line = tool_line(logs)
    assert line.levelno == logging.INFO
    assert line.getMessage().startswith(f"tool {QUICK} refused: invalid arguments: ")
    assert logs.errors() == [], logs.dump()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_an_unknown_method_is_method_not_found(
    server: RunningServer, logs: LogWatch, protocol: str
) -> None:
    answer = ask(server, protocol, "tools/frobnicate", {})

    assert answer["error"]["code"] == METHOD_NOT_FOUND, answer
    assert logs.errors() == [], logs.dump()
    assert logs.warnings() == [], logs.dump()


EXPECTED: list[Any] = [
    pytest.param(
        "resources/read",
        {"uri": "suite://items/missing"},
        lambda p: (not_found_code(p), MISSING),
        id="resource-not-found",
    ),
    pytest.param(
        "resources/read",
        {"uri": "suite://items/unavailable"},
        lambda p: (INTERNAL_ERROR, UNAVAILABLE),
        id="resource-error",
    ),
    pytest.param(
        "prompts/get",
        prompt(kind="missing"),
        lambda p: (INVALID_PARAMS, MISSING),
        id="prompt-not-found",
    ),
    pytest.param(
        "prompts/get",
        prompt(kind="unavailable"),
        lambda p: (INTERNAL_ERROR, UNAVAILABLE),
        id="prompt-error",
    ),
]


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(
    ("method", "params", "expect", "verdict"),
    [
        *(pytest.param(*case.values, "refused", id=case.id) for case in MISTAKES),
        *(pytest.param(*case.values, "failed", id=case.id) for case in EXPECTED),
    ],
)
def test_a_client_mistake_or_an_expected_failure_gets_its_code_and_one_info_line(
    server: RunningServer,
    logs: LogWatch,
    protocol: str,
    method: str,
    params: dict[str, Any],
    expect: Expect,
    verdict: str,
) -> None:
    """The specification's code and a message for the client; one INFO line, which says
    ``refused`` for the client's mistake and ``failed`` for a failure the code raised."""
    answer = ask(server, protocol, method, params)

    code, message = expect(protocol)
    assert answer["error"]["code"] == code, answer
    assert answer["error"]["message"] == message, answer
    line = tool_line(logs)
    assert line.levelno == logging.INFO
    assert f" {verdict}: " in line.getMessage()
    if verdict == "failed":  # what the code raised: its message, as the client got it
        assert f" failed: {message} " in line.getMessage()
    assert line.getMessage().endswith(f"(request {request_id(logs)})")
    assert logs.errors() == [], logs.dump()
    assert logs.warnings() == [], logs.dump()


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(
    ("method", "params", "what"),
    [
        pytest.param(
            "resources/read",
            {"uri": "suite://items/bug"},
            "resource suite://items/bug",
            id="resource",
        ),
        pytest.param("prompts/get", prompt(kind="bug"), f"prompt {PROMPT}", id="prompt"),
    ],
)
def test_a_bug_in_a_resource_or_prompt_is_a_generic_error_and_one_traceback(
    server: RunningServer,
    logs: LogWatch,
    protocol: str,
    method: str,
    params: dict[str, Any],
    what: str,
) -> None:
    answer = ask(server, protocol, method, params)

    request = request_id(logs)
    assert answer["error"]["code"] == INTERNAL_ERROR, answer
    assert answer["error"]["message"] == (
        f"internal error; the server log has the details (request {request})"
    )
    assert BUG not in json.dumps(answer)
    (error,) = logs.errors()
    assert error.name == TOOLS_LOGGER
    assert error.getMessage() == f"{what} raised an unexpected exception (request {request})"
    assert error.exc_info is not None
    assert isinstance(error.exc_info[1], ValueError)
    assert logs.tracebacks() == [error], logs.dump()


def test_what_the_sdk_s_own_api_registered_fails_by_intent_too(
    serve: Callable[..., RunningServer], logs: LogWatch
) -> None:
    """A tool, a resource and a prompt added with the SDK's own API, not through ``tools.py``
    (the 1.x SDK by itself sent such a tool's exception text to the client, and logged
    nothing)."""
    app = create_app(Settings())
    sdk_server: Server = app.state.mcp_server

    def direct_tool() -> str:
        raise RuntimeError("a tool's secret")

    sdk_server.add_tool(direct_tool)

    @sdk_server.resource("direct://{name}")
    def direct(name: str) -> str:
        raise NotFound(f"nothing called {name}")

    @sdk_server.prompt()
    def direct_prompt() -> str:
        raise KeyError("a prompt's secret")

    server = serve(app)
    protocol = PROTOCOLS[-1]
    called = ask(server, protocol, "tools/call", {"name": "direct_tool", "arguments": {}})
    assert called["result"]["isError"] is True, called
    assert "secret" not in json.dumps(called)
    missing = ask(server, protocol, "resources/read", {"uri": "direct://x"})
    assert missing["error"]["code"] == not_found_code(protocol), missing
    assert missing["error"]["message"] == "nothing called x"
    buggy = ask(server, protocol, "prompts/get", {"name": "direct_prompt"})
    assert buggy["error"]["code"] == INTERNAL_ERROR, buggy
    assert "secret" not in json.dumps(buggy)
    tool_error, prompt_error = logs.errors()
    assert tool_error.getMessage().startswith("tool direct_tool raised an unexpected exception")
    assert prompt_error.getMessage().startswith(
        "prompt direct_prompt raised an unexpected exception"
    )
