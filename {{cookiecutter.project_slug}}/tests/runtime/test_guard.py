"""The disconnect guard at the ASGI level, with scripted clients instead of a network."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

import anyio
import pytest
from starlette.types import Message, Receive, Scope, Send

from {{ cookiecutter.package_name }}.runtime.http.guard import DisconnectGuard

from ..support.logs import LogWatch

pytestmark = pytest.mark.quick  # the quick loop (README, Development)

Script = list[Message]


JSON_HEADER = (b"content-type", b"application/json")
TOOLS_LIST = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).encode()


def http_scope(method: str = "POST", headers: list[tuple[bytes, bytes]] | None = None) -> Scope:
    return {
        "type": "http",
        "method": method,
        "path": "/mcp",
        "headers": [JSON_HEADER, *(headers or [])],
        "client": ("203.0.113.9", 4321),
    }


def scripted_receive(script: Script) -> Receive:
    """Play ``script``, then block as a connected client does (until the test ends)."""
    messages = list(script)

    async def receive() -> Message:
        if messages:
            return messages.pop(0)
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    return receive


def run_guard(
    app: Callable[[Scope, Receive, Send], Awaitable[None]], scope: Scope, script: Script
) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    guard = DisconnectGuard(app, max_body_bytes=100, body_timeout=1)
    anyio.run(guard, scope, scripted_receive(script), send)
    return sent


async def answer_ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def test_the_app_gets_the_whole_body_in_one_message() -> None:
    seen: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(await receive())
        await answer_ok(scope, receive, send)

    script: Script = [
        {"type": "http.request", "body": TOOLS_LIST[:10], "more_body": True},
        {"type": "http.request", "body": TOOLS_LIST[10:], "more_body": False},
    ]
    sent = run_guard(app, http_scope(), script)
    assert seen == [{"type": "http.request", "body": TOOLS_LIST, "more_body": False}]
    assert sent[0]["status"] == 200


def test_a_client_gone_mid_body_never_reaches_the_app(logs: LogWatch) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("the app must not be called")

    script: Script = [
        {"type": "http.request", "body": b"12345", "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent = run_guard(app, http_scope(headers=[(b"content-length", b"80")]), script)
    assert sent == []
    (record,) = logs.records
    assert record.levelno == logging.WARNING
    assert "5 of 80 bytes received, client 203.0.113.9:4321" in record.getMessage()


def test_a_later_disconnect_is_hidden_until_the_response_is_done(logs: LogWatch) -> None:
    events: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await anyio.sleep(0.05)  # the client leaves while the "tool" runs
        await send({"type": "http.response.start", "status": 200, "headers": []})
        events.append("start sent")
        await send({"type": "http.response.body", "body": b"done", "more_body": False})
        events.append("body sent")
        events.append((await receive())["type"])

    body = json.dumps({"jsonrpc": "2.0", "id": 4, "method": "tools/call"}).encode()
    script: Script = [{"type": "http.request", "body": body}, {"type": "http.disconnect"}]
    sent = run_guard(app, http_scope(), script)
    assert events == ["start sent", "body sent", "http.disconnect"]
    assert sent == [], "nothing may be written to a departed client"
    (record,) = logs.records
    assert "before the response was complete" in record.getMessage()
    assert "tools/call id=4" in record.getMessage()


def test_long_lived_streams_see_the_real_disconnect_at_once() -> None:
    seen: list[str] = []

    async def listener(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        seen.append((await receive())["type"])

    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "subscriptions/listen"}).encode()
    run_guard(
        listener,
        http_scope(),
        [{"type": "http.request", "body": body}, {"type": "http.disconnect"}],
    )
    assert seen == ["http.disconnect"]


def test_get_streams_see_the_real_disconnect_and_are_closed_properly() -> None:
    seen: list[str] = []

    async def stream(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b": ping\n\n", "more_body": True})
        seen.append((await receive())["type"])  # then stops without finishing its response

    sent = run_guard(stream, http_scope("GET"), [{"type": "http.disconnect"}])
    assert seen == ["http.disconnect"]
    assert sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


def test_drain_ends_listener_streams_once_no_request_is_in_flight() -> None:
    events: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "GET":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            events.append(f"listener got {(await receive())['type']}")
        else:
            await receive()
            await anyio.sleep(0.2)
            events.append("request finished")
            await answer_ok(scope, receive, send)

    async def scenario() -> None:
        guard = DisconnectGuard(app, max_body_bytes=100, body_timeout=1)

        async def send(message: Message) -> None:
            pass

        async with anyio.create_task_group() as task_group:
            request: Script = [{"type": "http.request", "body": TOOLS_LIST}]
            task_group.start_soon(guard, http_scope(), scripted_receive(request), send)
            task_group.start_soon(guard, http_scope("GET"), scripted_receive([]), send)
            await anyio.sleep(0.05)
            guard.drain()
            events.append("drain")

    anyio.run(scenario)
    assert events == ["drain", "request finished", "listener got http.disconnect"]


def test_a_body_that_is_not_json_content_gets_415_unread() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("the app must not be called")

    scope = http_scope()
    scope["headers"] = [(b"content-type", b"text/plain")]
    sent = run_guard(app, scope, [])
    assert sent[0]["status"] == 415
    assert (b"connection", b"close") in sent[0]["headers"]


@pytest.mark.parametrize("scope", [http_scope("DELETE"), http_scope("PUT"), {"type": "lifespan"}])
def test_other_requests_pass_through_untouched(scope: Scope) -> None:
    received: list[Receive] = []

    async def app(inner_scope: Scope, receive: Receive, send: Send) -> None:
        received.append(receive)

    receive = scripted_receive([])

    async def send(message: Message) -> None:
        raise AssertionError("the guard must not answer for the app")

    anyio.run(DisconnectGuard(app, max_body_bytes=10, body_timeout=1), scope, receive, send)
    assert received == [receive]


def test_exceptions_from_the_app_propagate_unchanged() -> None:
    class ToolBug(Exception):
        pass

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        raise ToolBug("boom")

    with pytest.raises(ToolBug, match="boom"):
        run_guard(app, http_scope(), [{"type": "http.request", "body": TOOLS_LIST}])


@pytest.mark.parametrize(
    ("max_body_bytes", "body_timeout"), [(0, 1.0), (-5, 1.0), (10, 0.0), (10, float("inf"))]
)
def test_invalid_limits_are_refused_at_construction(
    max_body_bytes: int, body_timeout: float
) -> None:
    with pytest.raises(ValueError, match="must be a positive number"):
        DisconnectGuard(answer_ok, max_body_bytes=max_body_bytes, body_timeout=body_timeout)
