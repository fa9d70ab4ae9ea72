"""Raw-socket HTTP clients that misbehave the way real networks and clients do."""

from __future__ import annotations

import socket
import time

# The Content-Length of a body that never completes: far more than is ever sent.
DECLARED = 10_000


def request_head(port: int, headers: dict[str, str], *, path: str = "/mcp") -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def send_and_close(port: int, data: bytes) -> None:
    """Send ``data``, give the server a moment to read it, then hang up."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        time.sleep(0.2)


def truncated(port: int, headers: dict[str, str], body: bytes, *, shape: str) -> None:
    """Send a POST whose body never completes (``truncated_request``), then hang up.

    For a server in another process; one in this process knows when to hang up
    (``RunningServer.cut_short``).
    """
    send_and_close(port, truncated_request(port, headers, body, shape=shape))


def truncated_request(port: int, headers: dict[str, str], body: bytes, *, shape: str) -> bytes:
    """A POST whose body never completes, in one of the shapes clients cut it short.

    ``content-length``: a large Content-Length and the first part of the body;
    ``headers-only``: a large Content-Length and no body at all;
    ``chunked``: chunked transfer-encoding with one chunk of the body and no terminating chunk.
    """
    headers = {name: value for name, value in headers.items() if name != "content-length"}
    partial = body[: len(body) // 2]
    if shape == "content-length":
        data = request_head(port, {**headers, "content-length": str(DECLARED)}) + partial
    elif shape == "headers-only":
        data = request_head(port, {**headers, "content-length": str(DECLARED)})
    elif shape == "chunked":
        chunk = f"{len(partial):x}\r\n".encode() + partial + b"\r\n"
        data = request_head(port, {**headers, "transfer-encoding": "chunked"}) + chunk
    else:
        raise ValueError(f"unknown shape {shape!r}")
    return data


def read_until(sock: socket.socket, marker: bytes, *, timeout: float = 10) -> bytes:
    """Read from ``sock`` until ``marker`` has arrived; fail after ``timeout`` seconds."""
    sock.settimeout(timeout)
    received = b""
    while marker not in received:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed before {marker!r} arrived: {received!r}")
        received += chunk
    return received


def exchange(port: int, data: bytes, *, timeout: float = 10) -> tuple[int, bytes]:
    """Send one request (which should say ``connection: close``); the status and the body."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else 0
    return status, body
