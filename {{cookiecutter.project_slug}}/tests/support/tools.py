"""The suite's own tools, so that the template's tests never call the team's.

The request-path tests (guard, limits, protocol, shutdown, CLI, ...) need a quick tool and a
slow tool with progress. They use these, which every server the tests start carries beside the
team's (the runtime's ``EXTRA_REGISTRIES``): in this process through ``installed()`` (a fixture
in ``runtime/conftest.py``), in the processes the tests start through ``site/sitecustomize.py``
(``processes.clean_environment`` puts it on ``PYTHONPATH``). Nothing of the team's is replaced:
``tools.py`` is free to change, and only its own tests (``tests/test_tools.py``) name its tools.
The tools only one SDK line can serve are in ``line_tools.py``, installed with these.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

import anyio
from pydantic import Field

from {{ cookiecutter.package_name }}.runtime.registry import (
    EXTRA_REGISTRIES,
    Registry,
)
from {{ cookiecutter.package_name }}.runtime.sdk import (
    NotFound,
    ResourceError,
    ToolContext,
    ToolError,
    new_server,
)
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.tools import register_tools

from .line_tools import LINE_TOOLS, line_suite

QUICK = "suite_add"
SLOW = "suite_wait"
FAILING = "suite_fail"
SUITE_TOOLS = (QUICK, SLOW, FAILING, *LINE_TOOLS)
# What the failing tool says: to the client when the failure is expected, only to the log when
# it is a bug.
EXPECTED_FAILURE = "no such city: Atlantis"
BUG = "secret internal detail"
# The suite's resource templates and prompt: each fails as its argument says (``Failure``).
ITEMS = "suite://items/{name}"
NUMBERS = "suite://numbers/{number}"
PROMPT = "suite_prompt"
# What the failing resource and prompt say when the failure is expected.
MISSING = "no such item: Atlantis"
UNAVAILABLE = "the item store is down"
Failure = Literal["missing", "unavailable", "bug"]

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


def fail_as(kind: str) -> None:
    """Fail as ``kind`` says, if it names a ``Failure``: as a resource or prompt does."""
    if kind == "missing":
        raise NotFound(MISSING)
    if kind == "unavailable":
        raise ResourceError(UNAVAILABLE)
    if kind == "bug":
        raise ValueError(BUG)


@suite.resource(ITEMS)
def suite_item(name: str) -> str:
    """An item, by name; the names of a ``Failure`` fail."""
    fail_as(name)
    return f"item {name}"


@suite.resource(NUMBERS)
def suite_number(number: int) -> str:
    """A number, doubled: its URI must carry an integer."""
    return str(number * 2)


@suite.prompt(name=PROMPT)
def suite_prompt(topic: str, times: int = 1, kind: str = "none") -> str:
    """Ask about a topic; fails as ``kind`` says."""
    fail_as(kind)
    return " ".join([f"Tell me about {topic}."] * times)


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


# Every registry of the suite's tools: these, and the line's own.
REGISTRIES = (suite, line_suite)


def install() -> None:
    """Make every server this process serves from now on carry the suite's tools."""
    for registry in REGISTRIES:
        if registry not in EXTRA_REGISTRIES:
            EXTRA_REGISTRIES.append(registry)


@contextmanager
def installed() -> Iterator[None]:
    """``install()`` for the length of the block."""
    try:
        install()
        yield
    finally:
        for registry in REGISTRIES:
            EXTRA_REGISTRIES.remove(registry)


async def team_tool_names() -> list[str]:
    """The names of the tools the team's ``register_tools`` adds, as a client lists them."""
    server = new_server(Settings())
    register_tools(server)
    return sorted(tool.name for tool in await server.list_tools())
