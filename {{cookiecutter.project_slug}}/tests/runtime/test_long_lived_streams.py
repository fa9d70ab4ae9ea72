"""Streams that last until their client leaves must see the client leave.

The guard hides a disconnect from ordinary requests until their response is done. A listener
stream never finishes on its own, so hiding its client's departure would keep its task alive
forever, leak it, and stop the server from shutting down. These tests start the real service,
let one listener come and go while another stays, and check that SIGTERM still stops the
process promptly.
"""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Callable

import psutil
import pytest

from ..support import credentials, rawhttp
from ..support.client import MODERN_PROTOCOL
from ..support.processes import MODULE, Process, service_port
from ..support.rpc import LEGACY_PROTOCOL, rpc_request

pytestmark = pytest.mark.process

PROMPT_EXIT_SECONDS = 5.0


def get_stream(port: int) -> bytes:
    headers = {
        "host": f"127.0.0.1:{port}",
        "accept": "text/event-stream",
        "mcp-protocol-version": LEGACY_PROTOCOL,
        **credentials.headers(),
    }
    lines = ["GET /mcp HTTP/1.1", *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def listen_stream(port: int) -> bytes:
    params = {"notifications": {"toolsListChanged": True}}
    headers, body = rpc_request("subscriptions/listen", params, protocol=str(MODERN_PROTOCOL))
    return rawhttp.request_head(port, {**headers, "content-length": str(len(body))}) + body


def assert_sigterm_stops_it_promptly_and_cleanly(process: Process) -> None:
    process.popen.send_signal(signal.SIGTERM)
    started = time.monotonic()
    code = process.wait(timeout=PROMPT_EXIT_SECONDS * 3)
    assert time.monotonic() - started < PROMPT_EXIT_SECONDS, process.output()
    assert code == 0, process.output()
    assert "Traceback" not in process.output()
    assert " ERROR " not in process.output()


LISTENERS = [pytest.param(get_stream, id="get-stream")]
if MODERN_PROTOCOL is not None:
    LISTENERS.append(pytest.param(listen_stream, id="subscriptions-listen"))


@pytest.mark.parametrize("request_bytes", LISTENERS)
def test_listeners_do_not_hold_up_sigterm(
    launch: Callable[..., Process], request_bytes: Callable[[int], bytes]
) -> None:
    """A departed listener's stream has ended; a connected one's ends at shutdown, once no
    request is in flight. With one of each, SIGTERM stops the server promptly and cleanly."""
    process = launch(*MODULE, "--port", "0")
    port = service_port(process)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as departed:
        departed.sendall(request_bytes(port))
        assert rawhttp.read_until(departed, b"\r\n\r\n").startswith(b"HTTP/1.1 200 ")
        departed_port = departed.getsockname()[1]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connected:
        connected.sendall(request_bytes(port))
        assert rawhttp.read_until(connected, b"\r\n\r\n").startswith(b"HTTP/1.1 200 ")
        # A server that still held the departed listener's stream would hang on SIGTERM (and
        # never close its side of the connection, which the wait below fails on).
        wait_until_closed_by_server(process.popen.pid, departed_port)
        assert_sigterm_stops_it_promptly_and_cleanly(process)


def wait_until_closed_by_server(pid: int, client_port: int, timeout: float = 10) -> None:
    """Return once the server process has no connection to ``client_port`` left."""
    deadline = time.monotonic() + timeout
    while any(
        c.raddr and c.raddr.port == client_port
        for c in psutil.Process(pid).net_connections(kind="tcp")
    ):
        assert time.monotonic() < deadline, f"the server still holds the connection {client_port}"
        time.sleep(0.01)
