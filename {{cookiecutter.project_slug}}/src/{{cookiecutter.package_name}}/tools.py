"""The service's tools, resources and prompts: the team's code, starting as examples to copy.

The app calls ``register_tools(server)`` with the SDK's server; that is the one contract. Each
example is one decorated function: copy the one closest to what you need, and keep its test
(``tests/test_tools.py``) as the pattern for yours.

* ``add``: a quick, pure tool; its type hints become the tool's input schema. It shows the
  two kinds of failure: raise ``ToolError`` for an expected one (the client gets its message,
  the log one INFO line); any other exception is a bug (the client gets a generic tool error,
  the log one ERROR with the traceback and the request id).
* ``long_task``: a slow tool that reports progress through the request context, so clients
  can show it and know the call is alive.
* ``service_info``: a resource, read by URI.
* ``review_code``: a prompt, a message template the client fills in.
{% if cookiecutter.mcp_sdk == "2.x" %}
* ``ask_for_approval``: a tool that asks the user before it answers, and acts on what the user
  said: approved or refused, declined to answer, or dismissed the question.
{% endif %}

The ``@mcp.…`` decorators take the arguments of the SDK's own (``@server.tool()`` and so on);
registering through the SDK's API directly in ``register_tools`` works as well.
"""

from __future__ import annotations

import json
import math
from typing import Annotated

import anyio
{% if cookiecutter.mcp_sdk == "2.x" %}
from pydantic import BaseModel, Field
{% else %}
from pydantic import Field
{% endif %}

from . import SERVER_NAME, __version__
from .runtime.registry import Registry
from .runtime.sdk import (
    SDK_VERSION,
{% if cookiecutter.mcp_sdk == "2.x" %}
    AcceptedElicitation,
    Elicit,
    ElicitationResult,
    Resolve,
{% endif %}
    Server,
    ToolContext,
    ToolError,
)

MAX_LONG_TASK_SECONDS = 600.0

mcp = Registry()


@mcp.tool()
async def add(a: float, b: float) -> float:
    """Add two numbers."""
    total = a + b
    if not math.isfinite(total):
        # Expected, and the model can act on it: the message goes to the client.
        raise ToolError(f"the sum of {a:g} and {b:g} is too large to represent")
    return total


@mcp.tool()
async def long_task(
    seconds: Annotated[
        float, Field(ge=0, le=MAX_LONG_TASK_SECONDS, description="How long to run.")
    ],
    ctx: ToolContext,
    steps: Annotated[int, Field(ge=1, le=100, description="How many progress reports.")] = 5,
) -> str:
    """Work for the given number of seconds, reporting progress at each of the steps."""
    for step in range(1, steps + 1):
        await anyio.sleep(seconds / steps)
        await ctx.report_progress(step, steps, f"step {step} of {steps}")
    return f"done after {seconds:g} seconds in {steps} steps"


@mcp.resource("info://service", mime_type="application/json")
def service_info() -> str:
    """Which service this is: its name, its version and the MCP SDK it runs on."""
    return json.dumps({"name": SERVER_NAME, "version": __version__, "mcp_sdk": SDK_VERSION})


@mcp.prompt()
def review_code(code: str, language: str = "python") -> str:
    """Ask for a review of a piece of code."""
    return f"Review this {language} code for bugs, unclear names and missing tests:\n\n{code}"
{% if cookiecutter.mcp_sdk == "2.x" %}


# Asking the user. A tool declares what it must ask as a parameter filled by a resolver
# (``Resolve``) that returns the question and the form of the answer (``Elicit``); the SDK asks
# before the tool runs. Over MCP 2026-07-28 the call takes two rounds: the first answers with
# the question, the client asks its user and calls again with the answer, which any process or
# replica may get (they share REQUEST_STATE_KEYS: README, "Asking the user"). Clients on older
# revisions get an error: a stateless server cannot send them the question.


class Approval(BaseModel):
    """The form the user fills in: go ahead or not, and anything to pass on."""

    approve: bool = Field(description="Go ahead?")
    note: str = Field(default="", max_length=500, description="Anything the assistant should know.")


def ask_to_approve(action: str) -> Elicit[Approval]:
    """The question, made from the tool's own argument (a resolver takes arguments by name)."""
    return Elicit(f"The assistant wants to {action}. Go ahead?", Approval)


@mcp.tool()
async def ask_for_approval(
    action: Annotated[
        str,
        Field(min_length=1, max_length=200, description="What to do, e.g. 'delete 3 files'."),
    ],
    answer: Annotated[ElicitationResult[Approval], Resolve(ask_to_approve)],
) -> str:
    """Ask the user to approve an action before the assistant takes it."""
    if isinstance(answer, AcceptedElicitation):
        verdict = "approved" if answer.data.approve else "refused"
        note = f" (the user adds: {answer.data.note})" if answer.data.note else ""
        return f"{verdict}: {action}{note}"
    if answer.action == "decline":
        return f"the user declined to answer: do not {action}"
    return f"the user dismissed the question: do not {action}"
{% endif %}


def register_tools(server: Server) -> None:
    """Add this module's tools, resources and prompts to ``server``."""
    mcp.register(server)
