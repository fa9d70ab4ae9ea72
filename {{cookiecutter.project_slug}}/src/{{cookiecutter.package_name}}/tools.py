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

The ``@mcp.…`` decorators take the arguments of the SDK's own (``@server.tool()`` and so on);
registering through the SDK's API directly in ``register_tools`` works as well.
"""

from __future__ import annotations

import json
import math
from typing import Annotated

import anyio
from pydantic import Field

from . import SERVER_NAME, __version__
from .runtime.registry import Registry
from .runtime.sdk import SDK_VERSION, Server, ToolContext, ToolError

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


def register_tools(server: Server) -> None:
    """Add this module's tools, resources and prompts to ``server``."""
    mcp.register(server)
