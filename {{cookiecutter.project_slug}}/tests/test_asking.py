"""The team's: tests of ``ask_for_approval``, the example tool that asks the user (2.x only).

The tool is called through the MCP SDK's own in-memory client with a stand-in for the user
(``support/asking.py``) who accepts, declines or cancels, and once over real HTTP, where the
call takes two rounds, because that is how every client on MCP 2026-07-28 will call it. The
other examples' tests, the pattern for a team's own, are in ``test_tools.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from {{ cookiecutter.package_name }}.app import create_server
from {{ cookiecutter.package_name }}.runtime.sdk import Server
from {{ cookiecutter.package_name }}.settings import Settings

from .support.asking import User, accepting, cancelling, declining
from .support.client import MODERN_PROTOCOL, call_tool, in_memory, list_tool_names, over_http
from .support.servers import RunningServer

# The quick loop (README, Development): keep these in the test process.
pytestmark = [pytest.mark.anyio, pytest.mark.quick]

ACTION = {"action": "delete 3 files"}
QUESTION = "The assistant wants to delete 3 files. Go ahead?"


@pytest.fixture
def mcp_server() -> Server:
    """The SDK's server as the app builds it; asking the user needs nothing the tools share."""
    return create_server(Settings())


async def test_the_tool_is_listed(mcp_server: Server) -> None:
    async with in_memory(mcp_server) as client:
        assert "ask_for_approval" in await list_tool_names(client)


@pytest.mark.parametrize(
    ("user", "answer"),
    [
        pytest.param(lambda: accepting(approve=True), "approved: delete 3 files", id="approved"),
        pytest.param(
            lambda: accepting(approve=False, note="keep the logs"),
            "refused: delete 3 files (the user adds: keep the logs)",
            id="refused",
        ),
        pytest.param(
            declining, "the user declined to answer: do not delete 3 files", id="declined"
        ),
        pytest.param(
            cancelling, "the user dismissed the question: do not delete 3 files", id="cancelled"
        ),
    ],
)
async def test_ask_for_approval_acts_on_what_the_user_said(
    mcp_server: Server, user: Callable[[], User], answer: str
) -> None:
    """Each way a user can answer gets its own result; the question is asked once."""
    person = user()
    async with in_memory(mcp_server, person) as client:
        outcome = await call_tool(client, "ask_for_approval", ACTION)
    assert not outcome.is_error, outcome.text
    assert outcome.text == answer
    assert person.questions == [QUESTION]


async def test_ask_for_approval_over_http_takes_two_rounds(server: RunningServer) -> None:
    """The call as clients make it: MCP 2026-07-28 over HTTP, the answer in a second request."""
    person = accepting(approve=True)
    async with over_http(server.mcp_url, person) as client:
        assert client.protocol_version == MODERN_PROTOCOL
        outcome = await call_tool(client, "ask_for_approval", ACTION)
    assert outcome.text == "approved: delete 3 files"
    assert person.questions == [QUESTION]
