"""The suite's tools that only this SDK line serves: 2.x, which speaks MCP 2026-07-28.

``tools.py`` installs them with the others, in every server the tests start. The tests of
``subscriptions/listen`` need a tool that publishes resource updates; the tests of calls that
ask the user (``runtime/test_request_state.py``) need a tool that asks: the greeting tool asks
for a name first, which takes a MCP 2026-07-28 call two rounds.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import BaseModel, Field

from {{ cookiecutter.package_name }}.runtime.registry import Registry
from {{ cookiecutter.package_name }}.runtime.sdk import (
    Elicit,
    Resolve,
    ToolContext,
)

PUBLISHER = "suite_publish"
# The tool that asks the user for a name before it answers: a call in two rounds.
ASKING = "suite_greet"
NAME_QUESTION = "What is your name?"
LINE_TOOLS = (PUBLISHER, ASKING)

line_suite = Registry()


@line_suite.tool(name=PUBLISHER)
async def suite_publish(uris: list[str], ctx: ToolContext) -> int:
    """Publish an update of each resource in ``uris``, in order, to ``subscriptions/listen``.

    Answers the id of the process that published them, so a test knows which one did.
    """
    for uri in uris:
        await ctx.notify_resource_updated(uri)
    return os.getpid()


def publish_call(uris: Sequence[str]) -> dict[str, Any]:
    """The ``tools/call`` params for the publishing tool."""
    return {"name": PUBLISHER, "arguments": {"uris": list(uris)}}


class Name(BaseModel):
    """What the asking tool asks the user for."""

    name: str = Field(min_length=1, description="Your name.")


def ask_for_a_name() -> Elicit[Name]:
    return Elicit(NAME_QUESTION, Name)


@line_suite.tool(name=ASKING)
async def suite_greet(name: Annotated[Name, Resolve(ask_for_a_name)]) -> str:
    """Greet the user by the name they give when asked (MCP 2026-07-28: in two rounds)."""
    return greeting(name.name)


def greet_call() -> dict[str, Any]:
    """The ``tools/call`` params for the asking tool; see ``greeting`` for its answer."""
    return {"name": ASKING, "arguments": {}}


def greeting(name: str) -> str:
    """What the asking tool answers, once the user has given ``name``."""
    return f"hello, {name}"
