"""Call a 2.x bake's example tool that asks the user, over and over, the way clients do.

Each call is made by a new SDK client (``mcp.Client``), which answers the tool's question by
approving, and each HTTP request goes out on a connection of its own: a person takes longer to
answer than a kept-alive connection stays open, so a call's second round arrives on a new
connection, which the kernel may hand to another worker, or a proxy to another replica. Prints
how the calls ended, as one JSON object on its last line: ``{"approved: deploy": 40}`` when
every call succeeded, error messages counted otherwise.

Run with the bake's Python, which has the SDK: ``python asking_client.py URL CALLS [HOST]``
(``HOST``: the ``Host`` header to send, the name a proxy's replicas allow).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter

import httpx2
from mcp import Client
from mcp.client.context import ClientRequestContext
from mcp.client.streamable_http import streamable_http_client
from mcp.types import ElicitRequestParams, ElicitResult

TOOL = "ask_for_approval"
ARGUMENTS = {"action": "deploy"}


async def approve(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
    """Answer every question as a user who approves."""
    return ElicitResult(action="accept", content={"approve": True})


async def call(url: str, host: str | None) -> str:
    """One call by a new client; the tool's answer, or what went wrong."""
    headers = {"Host": host} if host else {}
    limits = httpx2.Limits(max_keepalive_connections=0)
    try:
        async with (
            httpx2.AsyncClient(headers=headers, limits=limits, timeout=30) as http,
            Client(
                streamable_http_client(url, http_client=http), elicitation_callback=approve
            ) as client,
        ):
            result = await client.call_tool(TOOL, ARGUMENTS)
    except Exception as raised:  # every failure is counted, by its message
        error: BaseException = raised
        while isinstance(error, BaseExceptionGroup) and error.exceptions:
            error = error.exceptions[0]
        return f"{type(error).__name__}: {error}"
    text = "".join(getattr(block, "text", "") for block in result.content)
    return f"tool error: {text}" if result.is_error else text


async def main(url: str, calls: int, host: str | None) -> None:
    """Make the calls one after another and print their outcomes."""
    outcomes = Counter([await call(url, host) for _ in range(calls)])
    print(json.dumps(dict(outcomes)), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None))
