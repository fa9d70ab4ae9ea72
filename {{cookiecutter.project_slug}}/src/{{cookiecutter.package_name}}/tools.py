"""The service's MCP tools. Two examples of the patterns a team copies:

* ``add``: a quick, pure tool; its type hints become the tool's input schema.
* ``long_task``: a slow tool that reports progress through the request context, so clients
  can show it and know the call is alive.
"""

from __future__ import annotations

from typing import Annotated

import anyio
from pydantic import Field

from .sdk import Server, ToolContext, add_tool

MAX_LONG_TASK_SECONDS = 600.0


async def add(a: float, b: float) -> float:
    """Add two numbers."""
    return a + b


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


def register_tools(server: Server) -> None:
    """Add every tool of this module to ``server``."""
    for tool in (add, long_task):
        add_tool(server, tool)
