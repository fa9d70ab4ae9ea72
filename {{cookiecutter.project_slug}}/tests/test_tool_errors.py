"""Tool errors by intent, the same on both SDK lines, through the SDK's own client over HTTP.

An expected failure (the tool raises the seam's ``ToolError``) reaches the client with its
message and leaves one INFO line; a bug reaches the client as a generic tool error that leaks
nothing and leaves one ERROR with the traceback. Both lines name the tool and the request id,
the one the request's access line names too.
"""

from __future__ import annotations

import logging

import anyio
import pytest

from .support.client import ToolOutcome, call_tool, over_http
from .support.logs import LogWatch
from .support.servers import RunningServer
from .support.tools import BUG, EXPECTED_FAILURE, FAILING

pytestmark = pytest.mark.quick  # the quick loop (README, Development)

TOOLS_LOGGER = "{{ cookiecutter.package_name }}.tools"


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
