"""The HTTP layer under real sockets: no Nagle stall, no lock-out by stalled connections, workers.

What ``connections.py``, ``limits.py`` and ``workers.py`` promise, checked against real processes
started as operators start them (and, where a property can be read directly, in-process):

* every accepted connection has ``TCP_NODELAY``, so sequential calls over one kept-alive
  connection take milliseconds, not the 40 ms of Nagle's algorithm meeting a delayed ACK;
* a connection that completes no request head within ``HEADER_TIMEOUT`` is closed, whether it
  is silent or trickles bytes, and an idle kept-alive one after ``KEEP_ALIVE_TIMEOUT``;
* connections that send no request cost nothing against the concurrency limit, which counts
  requests in flight and answers 503 with a JSON-RPC error beyond it;
* ``--workers 2`` serves from two processes on one port, adds up their metrics and drains both
  on SIGTERM.
"""

from __future__ import annotations

import http.client
import json
import re
import resource
import signal
import socket
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import httpx
import psutil
import pytest
import uvicorn

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.runtime.serving.cli import bind
from {{ cookiecutter.package_name }}.runtime.serving.connections import (
    protocol_class,
)
from {{ cookiecutter.package_name }}.settings import Settings

from ..support import metrics
from ..support.client import PROTOCOLS
from ..support.processes import (
    CONSOLE_SCRIPT,
    EXIT_TIMEOUT,
    LISTENING,
    MODULE,
    PACKAGE,
    UVICORN,
    Process,
    clean_environment,
    serving_worker,
    start_workers,
    untraced,
)
from ..support.rpc import Answer, parse_rpc_response, rpc_request, send
from ..support.tools import ADD_CALL, SLOW, wait_call

STARTED = re.compile(r"Application startup complete\.$")
CONNECTIONS_LOGGER = f"{PACKAGE}.runtime.serving.connections"
UVICORN_RUNNING = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")
# Nagle's algorithm meeting a delayed ACK costs about 40 ms per call; a call on loopback takes
# a few. Far from both, so the check does not depend on how busy the machine is.
STALL_MS = 25.0


def start(launch: Callable[..., Process], *args: str, **settings: str) -> tuple[Process, int]:
    process = launch(*MODULE, "--port", "0", *args, env=clean_environment(**settings))
    port = int(process.wait_for_stderr(LISTENING).group(1))
    process.wait_for_stderr(STARTED)
    return process, port


def call_add(connection: http.client.HTTPConnection, request_id: int = 1) -> None:
    headers, body = rpc_request(
        "tools/call", ADD_CALL, request_id=request_id, protocol=PROTOCOLS[0]
    )
    connection.request("POST", "/mcp", body, headers)
    response = connection.getresponse()
    text = response.read().decode()
    assert response.status == 200, text
    answer = parse_rpc_response(response.getheader("content-type", ""), text)
    assert answer["result"]["structuredContent"] == {"result": 5.0}, answer


def closed_by_server(sock: socket.socket, timeout: float) -> bytes:
    """What the server sent before it closed ``sock``; fails if it is still open after timeout."""
    sock.settimeout(timeout)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except TimeoutError:
        raise AssertionError(f"still open after {timeout} s; received {received!r}") from None
    return received


# -- no Nagle stall -----------------------------------------------------------------------------


def test_every_accepted_connection_has_tcp_nodelay() -> None:
    """Deterministic: the socket the command binds, served by the command's protocol."""
    settings = Settings(port=0)
    sock = bind(settings)
    # The root cause: sockets made like this say protocol 0, so asyncio leaves Nagle on.
    assert sock.proto == 0
    config = uvicorn.Config(
        create_app(settings), log_config=None, http=protocol_class(settings.header_timeout)
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive()
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.01)
        with socket.create_connection(sock.getsockname()[:2]) as client:
            client.sendall(b"GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
            assert client.recv(65536).startswith(b"HTTP/1.1 200 ")
            (connection,) = server.server_state.connections
            accepted = connection.transport.get_extra_info("socket")
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@pytest.mark.process
@pytest.mark.parametrize(
    ("command", "json_response"),
    # Both ways of starting the service (the command sets TCP_NODELAY in its protocol class,
    # uvicorn's command through the app), and both response shapes between them.
    [((CONSOLE_SCRIPT,), "false"), (UVICORN, "true")],
    ids=["console-script-sse", "uvicorn-json"],
)
def test_sequential_calls_over_one_connection_take_milliseconds(
    launch: Callable[..., Process], command: tuple[str | Path, ...], json_response: str
) -> None:
    env = untraced(clean_environment(JSON_RESPONSE=json_response))
    process = launch(*command, "--port", "0", env=env)
    pattern = UVICORN_RUNNING if command == UVICORN else LISTENING
    port = int(process.wait_for_stderr(pattern).group(1))
    process.wait_for_stderr(STARTED)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    timings = []
    for request_id in range(40):
        started = time.perf_counter()
        call_add(connection, request_id)
        timings.append((time.perf_counter() - started) * 1000)
    connection.close()
    # With the stall, every call after the connection's first few (Linux acknowledges those at
    # once) waits for a delayed ACK; without it, most calls take a few ms even on a busy machine.
    quick = sorted(timings[10:])[len(timings[10:]) // 5]
    assert quick < STALL_MS, f"a fifth of the calls took over {quick:.1f} ms: {timings}"


# -- deadlines for request heads and idle connections ------------------------------------------


@pytest.mark.process
def test_silent_and_trickling_connections_are_closed_at_the_header_timeout(
    launch: Callable[..., Process],
) -> None:
    process, port = start(launch, HEADER_TIMEOUT="1")
    with (
        socket.create_connection(("127.0.0.1", port)) as silent,
        socket.create_connection(("127.0.0.1", port)) as trickling,
    ):
        opened = time.monotonic()
        head = b"POST /mcp HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        # A byte every 0.1 s keeps the connection busy, not alive: the deadline is for the head.
        for byte in head:
            try:
                trickling.sendall(bytes([byte]))
            except OSError:
                break
            time.sleep(0.1)
        assert closed_by_server(trickling, 5).startswith(b"HTTP/1.1 408 ")
        assert closed_by_server(silent, 5) == b""
        assert time.monotonic() - opened < 4
    # The service still answers, and nothing was logged per connection at the default level.
    assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
    assert not [line for line in process.stderr if "connection" in line.lower()], process.output()
    # They are summed up instead: once a minute at most, and at shutdown.
    process.popen.send_signal(signal.SIGTERM)
    assert process.wait() == 0, process.output()
    assert process.stderr[-1].endswith(
        f"INFO {CONNECTIONS_LOGGER}: connections closed without a complete request head within "
        "1 s: 1 sent nothing, 1 sent part of a head"
    ), process.output()


@pytest.mark.process
def test_a_kept_alive_connection_is_closed_when_idle_and_a_second_head_has_a_deadline(
    launch: Callable[..., Process],
) -> None:
    _, port = start(launch, HEADER_TIMEOUT="1", KEEP_ALIVE_TIMEOUT="0.5")
    idle = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    call_add(idle)
    assert idle.sock is not None
    assert closed_by_server(idle.sock, 3) == b""

    # Idle timeout cancelled by the first byte of a second request: the head deadline still holds.
    slow = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    call_add(slow)
    assert slow.sock is not None
    slow.sock.sendall(b"POST /mcp HTTP/1.1\r\n")
    assert closed_by_server(slow.sock, 5).startswith(b"HTTP/1.1 408 ")


@pytest.mark.process
def test_thousands_of_stalled_connections_do_not_lock_out_a_real_client(
    launch: Callable[..., Process],
) -> None:
    """The lock-out attack: connections that never complete a head, far over the limit."""
    stalled_count = 1200
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < stalled_count + 200:
        pytest.skip(f"the open-file limit ({hard}) is too low for {stalled_count} connections")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # this test's own sockets
    process, port = start(launch, LIMIT_CONCURRENCY="50", HEADER_TIMEOUT="3")
    assert f"up to {hard} open files per process" in "\n".join(process.stderr), process.output()
    with ExitStack() as stack:
        stalled = []
        for index in range(stalled_count):
            sock = stack.enter_context(socket.create_connection(("127.0.0.1", port)))
            if index % 2:
                sock.sendall(b"POST /mcp HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-ty")
            stalled.append(sock)
        # Far over the limit of 50, and still every call is answered, at once.
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        for request_id in range(5):
            call_add(connection, request_id)
        connection.close()
        for sock in stalled:  # then the deadline closes every one of them
            closed_by_server(sock, 10)
    lines_before_stop = len(process.stderr)
    process.popen.send_signal(signal.SIGTERM)
    assert process.wait() == 0, process.output()
    # No line per stalled connection: one summary of them all (here, at shutdown).
    assert lines_before_stop < 40, process.output()
    summary = (
        "connections closed without a complete request head within 3 s: "
        f"{stalled_count // 2} sent nothing, {stalled_count // 2} sent part of a head"
    )
    summaries = [line for line in process.stderr if "request head within" in line]
    assert len(summaries) == 1, process.output()
    assert summaries[0].endswith(f"INFO {CONNECTIONS_LOGGER}: {summary}"), process.output()
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.process
def test_over_the_limit_of_requests_in_flight_the_answer_is_503_with_a_json_rpc_error(
    launch: Callable[..., Process],
) -> None:
    _, port = start(launch, LIMIT_CONCURRENCY="1", JSON_RESPONSE="true")
    base_url = f"http://127.0.0.1:{port}"
    request = rpc_request("tools/call", wait_call(1, 1), protocol=PROTOCOLS[0], request_id=7)
    slow = threading.Thread(target=lambda: send(f"{base_url}/mcp", *request))
    # Idle connections do not count against the limit.
    with (
        socket.create_connection(("127.0.0.1", port)),
        socket.create_connection(("127.0.0.1", port)),
    ):
        assert httpx.get(f"{base_url}/healthz", timeout=10).status_code == 200
        slow.start()
        # Answered until the slow call is in flight, refused while it is.
        refused = httpx.get(f"{base_url}/healthz", timeout=10)
        while refused.status_code == 200 and slow.is_alive():
            time.sleep(0.01)
            refused = httpx.get(f"{base_url}/healthz", timeout=10)
    slow.join()
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    error = json.loads(refused.text)
    assert error["jsonrpc"] == "2.0"
    assert error["id"] is None
    assert error["error"]["code"] == -32000
    assert "1 requests in flight" in error["error"]["message"]
    assert httpx.get(f"{base_url}/healthz", timeout=10).status_code == 200


# -- several workers ----------------------------------------------------------------------------


def assert_both_answer(port: int, workers: list[int]) -> None:
    seen: set[int | None] = set()
    with ExitStack() as stack:
        for request_id in range(200):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            stack.callback(connection.close)
            call_add(connection, request_id)
            assert connection.sock is not None
            seen.add(serving_worker(workers, connection.sock.getsockname()[1]))
            if set(workers) <= seen:
                break
    assert seen == set(workers)


def assert_sigterm_drains_both_and_the_call_in_flight_completes(
    process: Process, port: int, workers: list[int]
) -> None:
    request = rpc_request("tools/call", wait_call(1, 2), protocol=PROTOCOLS[0], request_id=3)
    answers: list[Answer] = []
    slow = threading.Thread(
        target=lambda: answers.append(send(f"http://127.0.0.1:{port}/mcp", *request))
    )
    slow.start()
    time.sleep(0.3)
    process.popen.send_signal(signal.SIGTERM)
    slow.join()
    assert process.wait(timeout=EXIT_TIMEOUT + 5) == 0, process.output()
    (answer,) = answers
    assert answer.result["isError"] is False, answer
    assert not any(psutil.pid_exists(pid) for pid in workers)
    output = "\n".join(process.stderr)
    assert "ERROR" not in output, process.output()
    assert "Traceback" not in output, process.output()
    assert output.count("Application shutdown complete.") == 2, process.output()
    # What the tools share (``shared.py``): opened by each worker once, for all its requests,
    # and closed after the drain, the call in flight answered.
    lines = process.stderr
    opened = [i for i, line in enumerate(lines) if line.endswith(": opened for this process")]
    closed = [i for i, line in enumerate(lines) if line.endswith(": closing")]
    assert len(opened) == len(closed) == 2, process.output()
    answered = next(i for i, line in enumerate(lines) if f"tools/call {SLOW} -> ok" in line)
    assert min(closed) > max(opened), process.output()
    assert max(closed) > answered, process.output()


@pytest.mark.process
def test_two_workers_share_the_port_add_up_their_metrics_and_drain_on_sigterm(
    launch: Callable[..., Process],
) -> None:
    """One ``--workers 2`` service for the three things two workers must get right together
    (starting one costs three processes' imports)."""
    process, port, workers = start_workers(launch, 2, JSON_RESPONSE="true")
    try:
        base_url = f"http://127.0.0.1:{port}"
        metrics.traffic(base_url)
        for _ in range(4):  # new connections, so the scrapes reach either worker
            metrics.assert_counts(base_url)
        assert_both_answer(port, workers)
        assert_sigterm_drains_both_and_the_call_in_flight_completes(process, port, workers)
    finally:
        for pid in workers:
            if psutil.pid_exists(pid):
                psutil.Process(pid).kill()
