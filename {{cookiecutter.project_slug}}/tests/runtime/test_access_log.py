"""What the service writes to stderr as operators run it: one access line per request.

A real process (the console module, with the logging it configures), real traffic of every
kind, and every line of its stderr read back: in text, and as JSON for log shippers.
"""

from __future__ import annotations

import json
import re
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from {{ cookiecutter.package_name }}.runtime.requests import request_id

from ..support.client import PROTOCOLS
from ..support.logs import ACCESS_LOGGER, LOG_LINE
from ..support.processes import MODULE, Process, clean_environment, service_port
from ..support.rpc import METHOD_NOT_FOUND, Answer, rpc_request, send
from ..support.tools import EXPECTED_FAILURE, FAILING, QUICK, add_call, fail_call

GENERATED_ID = re.compile(r"[0-9a-f]{12}")


@dataclass(frozen=True)
class Sent:
    """One request the traffic made, and what its access line must say."""

    request_id: str
    what: str  # method, then name, as the line puts them
    outcome: str
    status: int


def traffic(base_url: str) -> list[Sent]:
    """One request of each kind the access line tells apart; the ids the service answered."""
    protocol = PROTOCOLS[0]
    sent: list[Sent] = []

    def post(method: str, params: dict[str, Any], request_id: str | None, **headers: str) -> Answer:
        rpc_headers, body = rpc_request(method, params, protocol=protocol)
        if request_id is not None:
            rpc_headers["x-request-id"] = request_id
        answer = send(f"{base_url}/mcp", {**rpc_headers, **headers}, body)
        if request_id is not None:
            assert answer.headers["x-request-id"] == request_id
        else:
            assert GENERATED_ID.fullmatch(answer.headers["x-request-id"])
        return answer

    answer = post("tools/call", add_call(), "req-add-1")
    assert answer.status == 200
    sent.append(Sent("req-add-1", f"tools/call {QUICK}", "ok", 200))
    answer = post("tools/call", fail_call("expected"), "req-fail-2")
    assert EXPECTED_FAILURE in answer.result["content"][0]["text"]
    sent.append(Sent("req-fail-2", f"tools/call {FAILING}", "tool_error", 200))
    answer = post("server/no-such-method", {}, "req-unknown-3")
    sent.append(
        Sent("req-unknown-3", "server/no-such-method", f"rpc_error {METHOD_NOT_FOUND}", 200)
    )
    answer = post("tools/list", {}, None)
    sent.append(Sent(answer.headers["x-request-id"], "tools/list", "ok", 200))
    answer = post("tools/list", {}, "req-refused-5", **{"content-type": "text/plain"})
    assert answer.status == 415
    sent.append(Sent("req-refused-5", "", "refused", 415))
    health = httpx.get(f"{base_url}/healthz", headers={"x-request-id": "req-probe-6"}, timeout=10)
    assert health.headers["x-request-id"] == "req-probe-6"
    return sent


def run_and_stop(launch: Callable[..., Process], **settings: str) -> tuple[Process, list[Sent]]:
    process = launch(*MODULE, "--port", "0", env=clean_environment(**settings))
    sent = traffic(f"http://127.0.0.1:{service_port(process)}")
    process.popen.send_signal(signal.SIGTERM)
    assert process.wait() == 0, process.output()
    return process, sent


@pytest.mark.process
def test_one_access_line_per_request_and_no_sdk_chatter(launch: Callable[..., Process]) -> None:
    process, sent = run_and_stop(launch)
    output = process.output()

    access = [line for line in process.stderr if ".runtime.http.access: " in line]
    assert len(access) == len(sent), output
    for request, line in zip(sent, access, strict=True):
        what = f" {request.what}" if request.what else ""
        expected = (
            f" INFO {ACCESS_LOGGER}: POST /mcp{what} -> "
            f"{request.outcome} (HTTP {request.status}) in "
        )
        assert expected in line, output
        assert re.search(r" in \d+\.\d ms", line), line
        assert line.endswith(f", request {request.request_id}"), line
    # The probe's line is at DEBUG; the SDK's per-request lines, its session managers' start and
    # stop (one pair per SDK app) and uvicorn's access lines are not written.
    assert "/healthz" not in output
    quieted = ("Terminating session", "Processing request", "session manager", "uvicorn.access")
    for chatter in (*quieted, '" 200'):
        assert chatter not in output, output
    # The expected failure's own line names the same request.
    (failure,) = [line for line in process.stderr if f"tool {FAILING} failed" in line]
    assert failure.endswith(f"{EXPECTED_FAILURE} (request req-fail-2)"), failure
    assert [line for line in process.stderr if not LOG_LINE.match(line)] == [], output


@pytest.mark.process
@pytest.mark.parametrize("level", ["info", "debug"])
def test_json_logs_are_one_object_per_line_with_the_request_fields(
    launch: Callable[..., Process], level: str
) -> None:
    process, sent = run_and_stop(launch, LOG_FORMAT="json", LOG_LEVEL=level)

    records = []
    for line in process.stderr:
        record = json.loads(line)  # every line, startup and shutdown included
        assert {"timestamp", "level", "logger", "message"} <= record.keys(), line
        records.append(record)
    access = [r for r in records if r["logger"].endswith(".runtime.http.access")]
    mcp = [r for r in access if r["path"] == "/mcp"]
    assert [r["request_id"] for r in mcp] == [request.request_id for request in sent]
    for request, record in zip(sent, mcp, strict=True):
        assert record["level"] == "INFO"
        assert record["status"] == request.status
        assert record["http_method"] == "POST"
        assert f"{record['outcome']} {record.get('code', '')}".strip() == request.outcome
        assert isinstance(record["duration_ms"], float)
    called = mcp[0]
    assert (called["rpc_method"], called["rpc_name"], called["rpc_id"]) == ("tools/call", QUICK, 1)
    (failure,) = [r for r in records if r["message"].startswith(f"tool {FAILING} failed")]
    assert (failure["level"], failure["request_id"], failure["rpc_name"]) == (
        "INFO",
        "req-fail-2",
        FAILING,
    )
    probes = [r for r in access if r["path"] == "/healthz"]
    assert [(r["level"], r["request_id"]) for r in probes] == (
        [("DEBUG", "req-probe-6")] if level == "debug" else []
    )


@pytest.mark.parametrize("sent", ["has space", "", "x" * 65])
def test_a_request_id_that_would_not_fit_a_log_line_is_replaced_or_cut(sent: str) -> None:
    """One with spaces, or an empty one, is replaced by a fresh id; a long one is cut to 64."""
    scope = {"type": "http", "headers": [(b"x-request-id", sent.encode())]}
    chosen = request_id(scope)
    if len(sent) > 64:
        assert chosen == sent[:64]
    else:
        assert GENERATED_ID.fullmatch(chosen)
