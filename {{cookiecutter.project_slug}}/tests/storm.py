"""A storm of cut-short requests mixed with valid calls, against a running service.

Shared by the load test (``test_load.py``) and the benchmark (``benchmarks/storm.py``).
"""

from __future__ import annotations

import http.client
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .support import rawhttp
from .support.client import PROTOCOLS, parse_rpc_response, rpc_request
from .support.tools import QUICK

SHAPES = ("content-length", "headers-only", "chunked")
EARLY_DISCONNECT = "client disconnected before its request body was complete"


@dataclass
class StormResult:
    valid: int = 0
    correct: int = 0
    wrong: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def calls_per_second(self) -> float:
        return self.correct / self.seconds if self.seconds else 0.0


def valid_call(port: int, number: int, *, timeout: float = 60) -> tuple[bool, float, str]:
    """``add(number, 1000)`` on a fresh connection: whether the answer was right, and when."""
    params = {"name": QUICK, "arguments": {"a": number, "b": 1000}}
    headers, body = rpc_request("tools/call", params, request_id=number, protocol=PROTOCOLS[-1])
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("POST", "/mcp", body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
    except OSError as exc:
        return False, time.monotonic() - started, f"call {number}: {exc!r}"
    finally:
        connection.close()
    elapsed = time.monotonic() - started
    if response.status != 200:
        return False, elapsed, f"call {number}: HTTP {response.status} {text[:200]!r}"
    answer = parse_rpc_response(response.getheader("content-type", ""), text)
    result = answer.get("result", {}).get("structuredContent")
    if result != {"result": float(number + 1000)} or answer.get("id") != number:
        return False, elapsed, f"call {number}: {answer!r}"
    return True, elapsed, ""


def cut_call(port: int, number: int) -> None:
    params = {"name": QUICK, "arguments": {"a": number, "b": 1}}
    headers, body = rpc_request("tools/call", params, request_id=number, protocol=PROTOCOLS[-1])
    rawhttp.truncated(port, headers, body, shape=SHAPES[number % len(SHAPES)], linger=0.05)


def storm(
    port: int, *, truncated: int, valid: int, workers: int = 32, seed: int = 0
) -> StormResult:
    """Send ``truncated`` cut-short requests and ``valid`` calls, shuffled, ``workers`` at once."""
    jobs = [("cut", n) for n in range(truncated)] + [("valid", n) for n in range(valid)]
    random.Random(seed).shuffle(jobs)
    result = StormResult(valid=valid)

    def run(job: tuple[str, int]) -> tuple[bool, float, str] | None:
        kind, number = job
        if kind == "cut":
            cut_call(port, number)
            return None
        return valid_call(port, number)

    started = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        for outcome in pool.map(run, jobs):
            if outcome is None:
                continue
            ok, elapsed, problem = outcome
            result.latencies.append(elapsed)
            if ok:
                result.correct += 1
            else:
                result.wrong.append(problem)
    result.seconds = time.monotonic() - started
    return result


def resident_kib(pid: int) -> int:
    """Resident memory of process ``pid`` (Linux: /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")
