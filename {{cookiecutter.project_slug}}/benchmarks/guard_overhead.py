"""Benchmark: what the disconnect guard adds to each request, measured at the ASGI level.

Run from the project root: ``python benchmarks/guard_overhead.py [--requests 20000]``.
It drives a trivial ASGI app directly and through the guard with a typical MCP request body,
with no network in between, and prints microseconds per request for each. Figures are
printed, not asserted; compare them before and after a change to the request path.
"""

from __future__ import annotations

import argparse
import json
import time

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from {{ cookiecutter.package_name }}.runtime.guard import DisconnectGuard

BODY = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/call",
        "params": {
            "name": "add",
            "arguments": {"a": 2, "b": 3},
            "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"},
        },
    }
).encode()
SCOPE: Scope = {
    "type": "http",
    "method": "POST",
    "path": "/mcp",
    "headers": [
        (b"host", b"127.0.0.1:8000"),
        (b"content-type", b"application/json"),
        (b"accept", b"application/json, text/event-stream"),
        (b"mcp-protocol-version", b"2026-07-28"),
        (b"content-length", str(len(BODY)).encode()),
    ],
    "client": ("127.0.0.1", 50000),
}


async def trivial_app(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}", "more_body": False})


async def run(app: ASGIApp, requests: int) -> float:
    async def send(message: Message) -> None:
        pass

    started = time.perf_counter()
    for _ in range(requests):
        await app(dict(SCOPE), connected_client(), send)
    return (time.perf_counter() - started) / requests * 1e6


def connected_client() -> Receive:
    """Like uvicorn's ``receive``: the body, then nothing until the connection ends."""
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": BODY, "more_body": False}
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    return receive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    args = parser.parse_args()
    guard = DisconnectGuard(
        trivial_app,
        max_body_bytes=4 * 1024 * 1024,
        body_timeout=30,
        check_headers=None,
    )
    bare = anyio.run(run, trivial_app, args.requests)
    guarded = anyio.run(run, guard, args.requests)
    print(f"{args.requests} requests of {len(BODY)} bytes")
    print(f"  app alone:         {bare:8.1f} us/request")
    print(f"  through the guard: {guarded:8.1f} us/request (+{guarded - bare:.1f} us)")


if __name__ == "__main__":
    main()
