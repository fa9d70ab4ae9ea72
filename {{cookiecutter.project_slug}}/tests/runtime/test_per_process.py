"""What a service opens once per process (``runtime/per_process.py``), on both SDK lines.

Opened once, before the first request, whatever the number of requests (the 1.x SDK's own
``lifespan=`` would be entered per request); closed once, after the last request in flight has
its answer; the same when the app is mounted in a larger one. ``test_connections.py`` checks
that each of ``--workers 2`` opens its own.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from {{ cookiecutter.package_name }}.runtime.http.app import build_http_app
from {{ cookiecutter.package_name }}.runtime.per_process import PerProcess
from {{ cookiecutter.package_name }}.runtime.sdk import new_server
from {{ cookiecutter.package_name }}.settings import Settings

from ..support.client import PROTOCOLS
from ..support.rpc import rpc_request, send
from ..support.servers import RunningServer

pytestmark = pytest.mark.quick  # the quick loop (README, Development)


class Pool:
    """Stands in for a connection pool: records when it is opened, used and closed."""

    def __init__(self) -> None:
        self.events: list[str] = []

    @asynccontextmanager
    async def open(self, settings: Settings) -> AsyncIterator[Pool]:
        self.events.append("open")
        try:
            yield self
        finally:
            self.events.append("close")


def app_sharing(pool: Pool) -> Starlette:
    """The service's HTTP app, with a tool that uses what the process shares."""
    shared = PerProcess(pool.open)
    server = new_server(Settings(), shared=shared)

    @server.tool()
    async def use_pool(seconds: float = 0) -> int:
        """Use the pool, taking ``seconds``; returns how many times it was used."""
        await anyio.sleep(seconds)
        shared().events.append("used")
        return shared().events.count("used")

    return build_http_app(server, Settings())


def use(url: str, seconds: float = 0) -> None:
    params = {"name": "use_pool", "arguments": {"seconds": seconds}}
    assert send(url, *rpc_request("tools/call", params, protocol=PROTOCOLS[-1])).result


def test_opened_once_for_every_request_and_closed_once_after_the_last(
    serve: Callable[..., RunningServer],
) -> None:
    pool = Pool()
    server = serve(app_sharing(pool))
    for _ in range(5):
        use(server.mcp_url)
    assert pool.events == ["open", *["used"] * 5]
    server.stop()
    assert pool.events == ["open", *["used"] * 5, "close"]


def test_closed_only_once_the_request_in_flight_has_its_answer(
    serve: Callable[..., RunningServer],
) -> None:
    pool = Pool()
    server = serve(app_sharing(pool))
    in_flight = threading.Thread(target=use, args=(server.mcp_url, 0.5))
    in_flight.start()
    server.wait_for_request()
    server.stop()
    in_flight.join(timeout=10)
    assert pool.events == ["open", "used", "close"]


def test_a_mounted_app_opens_it_through_the_host_s_lifespan(
    serve: Callable[..., RunningServer],
) -> None:
    pool = Pool()
    mcp_app = app_sharing(pool)
    host = Starlette(
        routes=[Mount("/tools", app=mcp_app)], lifespan=mcp_app.router.lifespan_context
    )
    server = serve(host)
    for _ in range(3):
        use(f"{server.base_url}/tools/mcp")
    server.stop()
    assert pool.events == ["open", "used", "used", "used", "close"]


def test_outside_a_request_it_says_how_to_open_it() -> None:
    shared = PerProcess(Pool().open)
    with pytest.raises(LookupError, match=r"in a test by `async with <it>\.opened\(settings\)`"):
        shared()


@pytest.mark.anyio
async def test_a_test_opens_it_for_a_block() -> None:
    pool = Pool()
    shared = PerProcess(pool.open)
    async with shared.opened(Settings()):
        assert shared() is pool
    assert pool.events == ["open", "close"]
