"""Real uvicorn servers for tests: bound to 127.0.0.1 on a free port, always shut down."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple, TypeVar

import uvicorn
from starlette.types import ASGIApp

from {{ cookiecutter.package_name }}.runtime.settings import JsonResponse

from . import rawhttp
from .client import PROTOCOLS
from .rpc import HTTP, rpc_request, send
from .tools import ADD_CALL, SUITE_TOOLS

T = TypeVar("T")
# How often the waits below look at the server: a few milliseconds, against the tenths of a
# second a fixed sleep would have to allow on a busy machine.
POLL = 0.005
# Tasks that start with the first request of their kind and then run as long as the loop:
# sse_starlette's shutdown watcher (the first SSE response starts it).
LONG_LIVED_TASKS = frozenset({"_shutdown_watcher"})


class AnswerRoute(NamedTuple):
    """One way a POST is answered: the service's ``JSON_RESPONSE`` and whether the call asks for
    progress, which under ``auto`` makes its answer a stream."""

    json_response: JsonResponse
    progress: bool

    @property
    def streams(self) -> bool:
        """Whether the answer is an SSE stream rather than plain JSON."""
        return self.json_response is False or (self.json_response == "auto" and self.progress)

    def meta(self) -> dict[str, Any]:
        """What the call's ``params`` carry besides its own: a progress token, if it asks."""
        return {"_meta": {"progressToken": "p"}} if self.progress else {}


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
        self.thread = threading.Thread(target=asyncio.run, args=(self._serve(),))
        self.loop: asyncio.AbstractEventLoop | None = None
        # The tasks the server runs when no request is in flight (its own, the lifespan's, the
        # SDK's task group): any other means something is still at work.
        self.idle_tasks: set[asyncio.Task[Any]] = set()

    async def _serve(self) -> None:
        self.loop = asyncio.get_running_loop()
        await self.server.serve(sockets=[self.sock])

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        self.idle_tasks = self._on_loop(_other_tasks)

    def _on_loop(self, function: Callable[[], T]) -> T:
        """``function()``, run on the server's event loop (where its state may be read)."""
        assert self.loop is not None

        async def call() -> T:
            return function()

        return asyncio.run_coroutine_threadsafe(call(), self.loop).result(timeout=10)

    def _wait(self, condition: Callable[[], bool], what: str, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while not self._on_loop(condition):
            if time.monotonic() > deadline:
                busy = self._on_loop(self._busy_tasks)
                raise AssertionError(f"timed out waiting until {what}; tasks at work: {busy}")
            time.sleep(POLL)

    def _busy_tasks(self) -> list[str]:
        return [
            task.get_coro().__qualname__  # type: ignore[union-attr]
            for task in _other_tasks() - self.idle_tasks
            if task.get_coro().__qualname__ not in LONG_LIVED_TASKS  # type: ignore[union-attr]
        ]

    def _has_connection(self, client: tuple[str, int]) -> bool:
        connections = self.server.server_state.connections
        return any(getattr(c, "client", None) == client for c in connections)

    def wait_for_connection(self, sock: socket.socket) -> None:
        """Return once the server has accepted the client connection ``sock``."""
        client = sock.getsockname()[:2]
        self._wait(lambda: self._has_connection(client), f"the server accepts {client}")

    def wait_for_connection_closed(self, client: tuple[str, int]) -> None:
        """Return once the server has seen the connection from ``client`` close."""
        self._wait(lambda: not self._has_connection(client), f"the server sees {client} leave")

    def wait_for_request(self) -> None:
        """Return once a request is in flight: its head is read and the app has it."""
        self._wait(lambda: bool(self.server.server_state.tasks), "a request is in flight")

    def settle(self, client: tuple[str, int] | None = None) -> None:
        """Return once the server is idle: no request in flight, no task left over from one
        (the SDK's included), and the connection of ``client``, if given, closed on its side.

        Whatever the server logs about the requests so far is logged by then: the barrier that
        negative assertions (no ERROR, one WARNING) need instead of a sleep.
        """

        def idle() -> bool:
            if self.server.server_state.tasks or self._busy_tasks():
                return False
            return client is None or not self._has_connection(client)

        self._wait(idle, "the server is idle")

    def hang_up(self, sock: socket.socket) -> None:
        """Close ``sock`` once the request sent on it is in flight; return when it has been
        handled to the end (see ``settle``)."""
        client = sock.getsockname()[:2]
        self.wait_for_request()
        sock.close()
        self.settle(client)

    def send_and_close(self, data: bytes) -> None:
        """Connect, send ``data`` and hang up at once; return when the server is done with it."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            client = sock.getsockname()[:2]
            self.wait_for_connection(sock)
            sock.sendall(data)
        self.settle(client)

    def cut_short(self, headers: dict[str, str], body: bytes, *, shape: str) -> None:
        """A POST whose body never completes (``rawhttp.truncated_request``), its client gone
        once the request is in flight; return when the server is done with it."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        try:
            sock.sendall(rawhttp.truncated_request(self.port, headers, body, shape=shape))
            self.hang_up(sock)
        finally:
            sock.close()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()
        if self.thread.is_alive():
            raise RuntimeError("the test server did not stop within 15 seconds")


def _other_tasks() -> set[asyncio.Task[Any]]:
    """The running loop's tasks, but the one asking."""
    return asyncio.all_tasks() - {asyncio.current_task()}


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
        listed = send(f"{base_url}/mcp", *rpc_request("tools/list", {}, protocol=protocol))
        assert set(SUITE_TOOLS) <= {tool["name"] for tool in listed.result["tools"]}
        called = send(f"{base_url}/mcp", *rpc_request("tools/call", ADD_CALL, protocol=protocol))
        assert called.result["structuredContent"] == {"result": 5.0}, called
