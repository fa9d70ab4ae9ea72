"""Run the SDK table's scenarios inside one baked project's venv; print one JSON line each.

Not a test module: ``sdk_table.py`` runs it as ``<venv>/bin/python <this file> <package>``
from the baked project's directory, so it imports that project's app and its test helpers
(real uvicorn servers, raw sockets). Each scenario gets a fresh server, bare SDK or guarded app,
and reports the HTTP status the client saw and what the server logged at WARNING and above.
"""

from __future__ import annotations

import importlib
import json
import logging
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path.cwd()))  # the baked project's `tests` package

from tests.support import rawhttp
from tests.support.rpc import LEGACY_PROTOCOL, STATELESS_PROTOCOL, rpc_request
from tests.support.servers import serving

ADD_CALL = {"name": "add", "arguments": {"a": 2, "b": 3}}
SLOW_CALL = {"name": "long_task", "arguments": {"seconds": 0.6, "steps": 3}}
# How long a scenario waits after the client is done for the server to log what it will.
SETTLE = 0.5


class Recorder(logging.Handler):
    """Keep every record at WARNING and above."""

    def __init__(self) -> None:
        """Record from WARNING up."""
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record."""
        self.records.append(record)


def exchange(port: int, data: bytes, *, wait: float = 3.0) -> str:
    """Send raw bytes and return the status code the server answers with, or ``none``."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        try:
            sock.sendall(data)
            answer = sock.recv(65536)
        except TimeoutError:
            return f"none in {wait:g} s"
        except OSError:
            return "connection reset"
    return answer.split(b" ", 2)[1].decode() if answer.startswith(b"HTTP/1.1 ") else "none"


def request_bytes(port: int, headers: dict[str, str], body: bytes) -> bytes:
    """Build a complete POST to /mcp that asks the server to close the connection after."""
    head = {**headers, "content-length": str(len(body)), "connection": "close"}
    return rawhttp.request_head(port, head) + body


def cut_short(shape: str) -> Callable[[int], str]:
    """Initialize-free legacy tools/call whose body never completes (python-sdk 2064)."""

    def scenario(port: int) -> str:
        headers, body = rpc_request("tools/call", ADD_CALL, request_id=2, protocol=LEGACY_PROTOCOL)
        rawhttp.truncated(port, headers, body, shape=shape)
        return "client left"

    return scenario


def leaves_mid_tool(port: int) -> str:
    """Call a slow tool, hang up while it runs, and wait for it to finish."""
    headers, body = rpc_request("tools/call", SLOW_CALL, request_id=2, protocol=LEGACY_PROTOCOL)
    rawhttp.send_and_close(port, request_bytes(port, headers, body))
    time.sleep(0.6)  # the tool's own duration
    return "client left"


def oversize(port: int) -> str:
    """Declare a 50 MB body, send 64 KiB of it, and wait up to 3 s for an answer."""
    headers, _ = rpc_request("tools/list", {}, request_id=2, protocol=LEGACY_PROTOCOL)
    head = rawhttp.request_head(port, {**headers, "content-length": str(50_000_000)})
    return exchange(port, head + b" " * 65536)


def header_mismatch(port: int) -> str:
    """Send a 2026-07-28 tools/call whose Mcp-Name header names another tool."""
    headers, body = rpc_request("tools/call", ADD_CALL, request_id=2, protocol=STATELESS_PROTOCOL)
    return exchange(port, request_bytes(port, {**headers, "mcp-name": "long_task"}, body))


def version_header_missing(port: int) -> str:
    """Send a 2026-07-28 tools/call (version in _meta) without MCP-Protocol-Version."""
    headers, body = rpc_request("tools/call", ADD_CALL, request_id=2, protocol=STATELESS_PROTOCOL)
    del headers["mcp-protocol-version"]
    return exchange(port, request_bytes(port, headers, body))


@dataclass(frozen=True)
class Scenario:
    """A named client behaviour; ``run(port)`` returns the status the client saw."""

    name: str
    run: Callable[[int], str]
    json_response: bool = True


SCENARIOS = [
    Scenario("truncated body (Content-Length)", cut_short("content-length")),
    Scenario("headers only", cut_short("headers-only")),
    Scenario("chunked, cut short", cut_short("chunked")),
    Scenario("disconnect mid-tool, JSON mode", leaves_mid_tool),
    Scenario("disconnect mid-tool, SSE mode", leaves_mid_tool, json_response=False),
    Scenario("oversize (50 MB declared)", oversize),
    Scenario("2026-07-28 Mcp-Name mismatch", header_mismatch),
    Scenario("2026-07-28 body, no version header", version_header_missing),
]


def measure(package: str, scenario: Scenario, guarded: bool) -> dict[str, Any]:
    """Run one scenario against a fresh bare or guarded server; return what happened."""
    app_module = importlib.import_module(f"{package}.app")
    sdk = importlib.import_module(f"{package}.runtime.sdk")
    settings = importlib.import_module(f"{package}.settings").Settings(
        json_response=scenario.json_response
    )
    if guarded:
        app = app_module.create_app(settings)
    else:
        server = app_module.create_server(settings)
        app = sdk.create_http_app(server, settings, json_response=scenario.json_response).app
    recorder = Recorder()
    root = logging.getLogger()
    root.addHandler(recorder)
    try:
        with serving(app) as server:
            status = scenario.run(server.port)
            time.sleep(SETTLE)
    finally:
        root.removeHandler(recorder)
    records = recorder.records
    return {
        "line": sdk.SDK_LINE,
        "version": sdk.SDK_VERSION,
        "scenario": scenario.name,
        "app": "guarded" if guarded else "bare",
        "status": status,
        "warnings": sum(record.levelno == logging.WARNING for record in records),
        "errors": sum(record.levelno >= logging.ERROR for record in records),
        "messages": [f"{r.levelname} {r.name}: {r.getMessage()[:200]}" for r in records],
        "traceback": any(
            record.exc_info or "Traceback" in record.getMessage() for record in records
        ),
    }


def main() -> None:
    """Measure every scenario against both apps; one JSON line per measurement."""
    package = sys.argv[1]
    logging.getLogger().setLevel(logging.INFO)
    for scenario in SCENARIOS:
        for guarded in (False, True):
            print(json.dumps(measure(package, scenario, guarded)), flush=True)


if __name__ == "__main__":
    main()
