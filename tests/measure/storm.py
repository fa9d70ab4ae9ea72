"""A storm of cut-short requests mixed with valid calls, against a baked service's process.

Used by the slow tier (``test_baked_project.py``) against each installed bake. Standard library
only, so it runs from the template's own environment against any bake: raw sockets for the
requests a polite client would never send, ``http.client`` for the valid calls.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import struct
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SHAPES = ("content-length", "headers-only", "chunked")
HEADERS = {
    "content-type": "application/json",
    "accept": "application/json, text/event-stream",
    "mcp-protocol-version": "2025-06-18",
}


@dataclass
class StormResult:
    """What the valid calls of one storm got back."""

    correct: int = 0
    wrong: list[str] = field(default_factory=list)


def add_request(number: int, b: int) -> bytes:
    """Build a ``tools/call`` of the example ``add`` tool: the bake is tested as generated."""
    params = {"name": "add", "arguments": {"a": number, "b": b}}
    message = {"jsonrpc": "2.0", "id": number, "method": "tools/call", "params": params}
    return json.dumps(message).encode()


def answer_of(content_type: str, text: str) -> dict[str, Any]:
    """Return the JSON-RPC response in a plain JSON answer or in an SSE stream."""
    if content_type.startswith("application/json"):
        return dict(json.loads(text))
    data = [line[5:].strip() for line in text.splitlines() if line.startswith("data:")]
    return dict(json.loads(data[-1]))


def valid_call(port: int, number: int) -> str:
    """``add(number, 1000)`` on a fresh connection; what was wrong with the answer, or ""."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", "/mcp", body=add_request(number, 1000), headers=HEADERS)
        response = connection.getresponse()
        text = response.read().decode()
    except OSError as exc:
        return f"call {number}: {exc!r}"
    finally:
        connection.close()
    if response.status != 200:
        return f"call {number}: HTTP {response.status} {text[:200]!r}"
    answer = answer_of(response.getheader("content-type", ""), text)
    result = answer.get("result", {}).get("structuredContent")
    if result != {"result": float(number + 1000)} or answer.get("id") != number:
        return f"call {number}: {answer!r}"
    return ""


def cut_call(port: int, number: int) -> None:
    """Send a request head and part of its body in one of three shapes, then reset."""
    body = add_request(number, 1)
    shape = SHAPES[number % len(SHAPES)]
    head = "".join(f"{name}: {value}\r\n" for name, value in HEADERS.items())
    head = f"POST /mcp HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n{head}"
    if shape == "chunked":
        sent = f"{head}transfer-encoding: chunked\r\n\r\n{len(body):x}\r\n".encode() + body[:10]
    elif shape == "headers-only":
        sent = f"{head}content-length: {len(body)}\r\n\r\n".encode()
    else:
        sent = f"{head}content-length: {len(body)}\r\n\r\n".encode() + body[: len(body) // 2]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(sent)
        time.sleep(0.05)  # the server is reading the body now
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def storm(port: int, *, truncated: int, valid: int, workers: int = 32) -> StormResult:
    """Send ``truncated`` cut-short requests and ``valid`` calls, shuffled, ``workers`` at once."""
    jobs = [("cut", n) for n in range(truncated)] + [("valid", n) for n in range(valid)]
    random.Random(0).shuffle(jobs)
    result = StormResult()

    def run(job: tuple[str, int]) -> str | None:
        kind, number = job
        if kind == "cut":
            cut_call(port, number)
            return None
        return valid_call(port, number)

    with ThreadPoolExecutor(workers) as pool:
        for problem in pool.map(run, jobs):
            if problem == "":
                result.correct += 1
            elif problem is not None:
                result.wrong.append(problem)
    return result


def resident_kib(pid: int) -> int:
    """Resident memory of process ``pid`` (Linux: /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")
