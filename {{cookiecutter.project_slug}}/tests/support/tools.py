"""The suite's own tools, so that the template's tests never call the team's.

The request-path tests (guard, limits, protocol, shutdown, CLI, ...) need a quick tool and a
slow tool with progress. They use these, which every server the tests start carries beside the
team's: in this process through ``installed()`` (a fixture in ``conftest.py``), in the
processes the tests start through ``site/sitecustomize.py`` (``processes.clean_environment``
puts it on ``PYTHONPATH``). The team's ``tools.py`` is free to change: only its own tests
(``tests/test_tools.py``) name its tools.
{% if cookiecutter.mcp_sdk == "2.x" %}

The tests of calls that ask the user (``test_request_state.py``) need a tool that asks: the
greeting tool asks for a name first, which takes a MCP 2026-07-28 call two rounds.
{% endif %}
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

import anyio
{% if cookiecutter.mcp_sdk == "2.x" %}
from pydantic import BaseModel, Field
{% else %}
from pydantic import Field
{% endif %}

from {{ cookiecutter.package_name }} import app
from {{ cookiecutter.package_name }}.runtime.registry import Registry
from {{ cookiecutter.package_name }}.runtime.sdk import (
{% if cookiecutter.mcp_sdk == "2.x" %}
    Elicit,
    Resolve,
{% endif %}
    Server,
    ToolContext,
    ToolError,
    new_server,
)
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.tools import register_tools

QUICK = "suite_add"
SLOW = "suite_wait"
FAILING = "suite_fail"
SUITE_TOOLS = (QUICK, SLOW, FAILING)
# What the failing tool says: to the client when the failure is expected, only to the log when
# it is a bug.
EXPECTED_FAILURE = "no such city: Atlantis"
BUG = "secret internal detail"
{% if cookiecutter.mcp_sdk == "2.x" %}
# The tool that asks the user for a name before it answers: a call in two rounds.
ASKING = "suite_greet"
NAME_QUESTION = "What is your name?"
{% endif %}

suite = Registry()


@suite.tool(name=QUICK)
def suite_add(a: float, b: float) -> float:
    """Add two numbers: a quick call whose answer proves the request went through.

    A plain function, where the slow tool is a coroutine: the SDK runs both kinds.
    """
    return a + b


@suite.tool(name=SLOW)
async def suite_wait(
    seconds: Annotated[float, Field(ge=0, le=600, description="How long to wait.")],
    ctx: ToolContext,
    steps: Annotated[int, Field(ge=1, le=100, description="How many progress reports.")] = 5,
) -> str:
    """Wait, reporting progress at each step: a call that is in flight for a known time."""
    for step in range(1, steps + 1):
        await anyio.sleep(seconds / steps)
        await ctx.report_progress(step, steps, f"step {step} of {steps}")
    return waited_text(seconds, steps)


@suite.tool(name=FAILING)
async def suite_fail(kind: Literal["expected", "bug"]) -> str:
    """Fail: as a tool does on purpose (``ToolError``), or as a buggy tool does."""
    if kind == "expected":
        raise ToolError(EXPECTED_FAILURE)
    raise ValueError(BUG)


{% if cookiecutter.mcp_sdk == "2.x" %}
class Name(BaseModel):
    """What the asking tool asks the user for."""

    name: str = Field(min_length=1, description="Your name.")


def ask_for_a_name() -> Elicit[Name]:
    return Elicit(NAME_QUESTION, Name)


@suite.tool(name=ASKING)
async def suite_greet(name: Annotated[Name, Resolve(ask_for_a_name)]) -> str:
    """Greet the user by the name they give when asked (MCP 2026-07-28: in two rounds)."""
    return greeting(name.name)


def greet_call() -> dict[str, Any]:
    """The ``tools/call`` params for the asking tool; see ``greeting`` for its answer."""
    return {"name": ASKING, "arguments": {}}


def greeting(name: str) -> str:
    """What the asking tool answers, once the user has given ``name``."""
    return f"hello, {name}"


{% endif %}
def fail_call(kind: Literal["expected", "bug"]) -> dict[str, Any]:
    """The ``tools/call`` params for the failing tool."""
    return {"name": FAILING, "arguments": {"kind": kind}}


def add_call(a: float = 2, b: float = 3) -> dict[str, Any]:
    """The ``tools/call`` params for the quick tool; its answer is ``a + b``."""
    return {"name": QUICK, "arguments": {"a": a, "b": b}}


def wait_call(seconds: float, steps: int = 1) -> dict[str, Any]:
    """The ``tools/call`` params for the slow tool; see ``waited_text`` for its answer."""
    return {"name": SLOW, "arguments": {"seconds": seconds, "steps": steps}}


def waited_text(seconds: float, steps: int) -> str:
    """What the slow tool answers."""
    return f"waited {seconds:g} seconds in {steps} steps"


ADD_CALL = add_call()


def register_with_suite_tools(server: Server) -> None:
    """The team's registration, then the suite's tools."""
    register_tools(server)
    suite.register(server)


def install() -> None:
    """Make every server the app builds from now on carry the suite's tools."""
    app.register_tools = register_with_suite_tools  # type: ignore[attr-defined]


@contextmanager
def installed() -> Iterator[None]:
    """``install()`` for the length of the block."""
    try:
        install()
        yield
    finally:
        app.register_tools = register_tools  # type: ignore[attr-defined]


async def team_tool_names() -> list[str]:
    """The names of the tools the team's ``register_tools`` adds, as a client lists them."""
    server = new_server(Settings())
    register_tools(server)
    return sorted(tool.name for tool in await server.list_tools())
