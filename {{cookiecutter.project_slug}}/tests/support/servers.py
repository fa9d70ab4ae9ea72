"""Real uvicorn servers for tests: bound to 127.0.0.1 on a free port, always shut down."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from .client import (
    HTTP,
    PROTOCOLS,
    initialize_request,
    parse_rpc_response,
    post_rpc,
    rpc_answer,
    rpc_request,
)
from .tools import ADD_CALL, SUITE_TOOLS


class RunningServer:
    """A uvicorn server in a background thread, serving ``app`` until ``stop()``."""

    def __init__(self, app: ASGIApp) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.mcp_url = f"{self.base_url}/mcp"
        config = uvicorn.Config(
            app, log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=5
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]})

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()
        if self.thread.is_alive():
            raise RuntimeError("the test server did not stop within 15 seconds")

    def post(
        self, method: str, params: dict[str, Any], *, protocol: str, request_id: int = 1
    ) -> Any:
        """One JSON-RPC request over HTTP; returns the JSON-RPC response (JSON or SSE answer)."""
        headers, body = rpc_request(method, params, request_id=request_id, protocol=protocol)
        response = HTTP.post(self.mcp_url, headers=headers, content=body)
        response.raise_for_status()
        return parse_rpc_response(response.headers.get("content-type", ""), response.text)

    def initialize(self) -> Any:
        headers, body = initialize_request()
        response = HTTP.post(self.mcp_url, headers=headers, content=body)
        response.raise_for_status()
        return parse_rpc_response(response.headers.get("content-type", ""), response.text)


@contextmanager
def serving(app: ASGIApp) -> Iterator[RunningServer]:
    server = RunningServer(app)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def assert_serves_mcp(base_url: str) -> None:
    """``/healthz`` and a real MCP round trip, in every protocol revision, under ``base_url``."""
    health = HTTP.get(f"{base_url}/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    for protocol in PROTOCOLS:
        listed = rpc_answer(post_rpc(f"{base_url}/mcp", "tools/list", {}, protocol))
        assert set(SUITE_TOOLS) <= {tool["name"] for tool in listed["result"]["tools"]}
        called = rpc_answer(post_rpc(f"{base_url}/mcp", "tools/call", ADD_CALL, protocol))
        assert called["result"]["structuredContent"] == {"result": 5.0}, called
