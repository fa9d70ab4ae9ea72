"""The service mounted inside a host Starlette/FastAPI app, and the upstream trap it avoids.

Starlette does not run a mounted app's lifespan, and the MCP SDK's session manager only works
inside its ``run()``, which our lifespan enters. Mounted without handing the lifespan to the
host, every MCP request fails with "Task group is not initialized" while ``/healthz`` stays
green, a trap that reaches production. These tests prove the one-line wiring documented in
``app.py`` works (alone, composed with the host's own lifespan, and for two MCP apps in one
host), and that without it the failure is exactly the upstream one, so the tests can fail.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.settings import Settings

from ..support.client import PROTOCOLS
from ..support.logs import LogWatch
from ..support.rpc import rpc_request, send
from ..support.servers import RunningServer, assert_serves_mcp

TRAP = "Task group is not initialized"


async def home(request: Request) -> PlainTextResponse:
    return PlainTextResponse("host home")


def assert_host_routes_answer(base_url: str) -> None:
    response = httpx.get(f"{base_url}/", timeout=10)
    assert response.status_code == 200
    assert response.text == "host home"


def test_mounted_with_the_documented_lifespan_line(
    serve: Callable[[Starlette], RunningServer], logs: LogWatch
) -> None:
    """Exactly the wiring in ``app.py``'s docstring: the host takes our lifespan."""
    mcp_app = create_app(Settings())
    host = Starlette(
        routes=[Mount("/tools", app=mcp_app), Route("/", home)],
        lifespan=mcp_app.router.lifespan_context,
    )
    server = serve(host)

    assert_serves_mcp(f"{server.base_url}/tools")
    assert_host_routes_answer(server.base_url)
    assert httpx.get(f"{server.base_url}/mcp", timeout=10).status_code == 404
    assert logs.errors() == [], logs.dump()


def test_mounted_in_a_host_with_its_own_lifespan(
    serve: Callable[[Starlette], RunningServer], logs: LogWatch
) -> None:
    """A host with startup work of its own enters our lifespan inside its own."""
    mcp_app = create_app(Settings())
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("host startup")
        async with mcp_app.router.lifespan_context(app):
            yield
        events.append("host shutdown")

    host = Starlette(routes=[Mount("/tools", app=mcp_app), Route("/", home)], lifespan=lifespan)
    with_server = serve(host)

    assert events == ["host startup"]
    assert_serves_mcp(f"{with_server.base_url}/tools")
    assert_host_routes_answer(with_server.base_url)
    with_server.stop()
    assert events == ["host startup", "host shutdown"]
    assert logs.errors() == [], logs.dump()


def test_two_mcp_apps_in_one_host(
    serve: Callable[[Starlette], RunningServer], logs: LogWatch
) -> None:
    """Each ``create_app`` has its own server and session manager; both lifespans must run."""
    first = create_app(Settings())
    second = create_app(Settings(json_response=False))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for mounted in (first, second):
                await stack.enter_async_context(mounted.router.lifespan_context(app))
            yield

    host = Starlette(
        routes=[Mount("/a", app=first), Mount("/b", app=second), Route("/", home)],
        lifespan=lifespan,
    )
    server = serve(host)

    assert_serves_mcp(f"{server.base_url}/a")
    assert_serves_mcp(f"{server.base_url}/b")
    assert_host_routes_answer(server.base_url)
    # They really are two apps: only the second answers a call with an SSE stream.
    request = rpc_request("tools/list", {}, protocol=PROTOCOLS[0])
    kinds = {
        prefix: send(f"{server.base_url}/{prefix}/mcp", *request).headers["content-type"]
        for prefix in ("a", "b")
    }
    kinds = {prefix: kind.split(";")[0] for prefix, kind in kinds.items()}
    assert kinds == {"a": "application/json", "b": "text/event-stream"}
    assert logs.errors() == [], logs.dump()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_mounted_without_the_lifespan_fails_with_the_upstream_trap(
    serve: Callable[[Starlette], RunningServer], logs: LogWatch, protocol: str
) -> None:
    """The trap itself: the host forgets the lifespan line. ``/healthz`` still says ok (so a
    load balancer keeps the replica in rotation) while every MCP request is a 500 and an
    ERROR naming the SDK's RuntimeError. If this test starts failing, the SDK or Starlette
    changed how a mounted app starts; re-check the wiring documented in ``app.py``."""
    mcp_app = create_app(Settings())
    host = Starlette(routes=[Mount("/tools", app=mcp_app), Route("/", home)])
    server = serve(host)

    health = httpx.get(f"{server.base_url}/tools/healthz", timeout=10)
    assert health.status_code == 200

    answer = send(f"{server.base_url}/tools/mcp", *rpc_request("tools/list", {}, protocol=protocol))
    assert answer.status == 500
    assert answer.text == "Internal Server Error"

    logs.wait_for(lambda: bool(logs.errors()))
    (error,) = logs.errors()
    assert error.name == "uvicorn.error"
    assert error.getMessage().strip() == "Exception in ASGI application"
    assert error.exc_info is not None
    exc_type, exc, _ = error.exc_info
    assert exc_type is RuntimeError
    assert str(exc).startswith(TRAP), exc
    assert error.levelno == logging.ERROR
