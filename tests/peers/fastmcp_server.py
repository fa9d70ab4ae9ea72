"""Standalone FastMCP (the ``fastmcp`` package) with the bake's ``add`` tool, for the benchmark.

What a team would run instead of a bake, as FastMCP's documentation serves it over HTTP
(``http_app``), stateless as the bake is: the benchmark's load generator sends each call on
its own, with no session. Served by ``uvicorn fastmcp_server:app``; it answers as FastMCP does
by default, with an SSE stream.
"""

from __future__ import annotations

from fastmcp import FastMCP

mcp = FastMCP("fastmcp-peer")


@mcp.tool
def add(a: float, b: float) -> float:
    """Add two numbers."""
    return a + b


app = mcp.http_app(stateless_http=True)
