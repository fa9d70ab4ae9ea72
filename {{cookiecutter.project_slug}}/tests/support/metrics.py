"""Reading ``GET /metrics`` back, and the traffic whose counts the tests know."""

from __future__ import annotations

import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from . import rawhttp
from .client import PROTOCOLS
from .rpc import rpc_request, send
from .tools import FAILING, QUICK, add_call, fail_call

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(base_url: str) -> Samples:
    response = httpx.get(f"{base_url}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def traffic(base_url: str) -> None:
    """Three quick calls, an expected tool failure, a 415 and a client gone mid-body."""
    mcp_url, protocol = f"{base_url}/mcp", PROTOCOLS[0]
    for call in (add_call(), add_call(), add_call(), fail_call("expected")):
        assert send(mcp_url, *rpc_request("tools/call", call, protocol=protocol)).status == 200
    headers, body = rpc_request("tools/list", {}, protocol=protocol)
    assert send(mcp_url, {**headers, "content-type": "text/plain"}, body).status == 415
    port = int(base_url.rsplit(":", 1)[1])
    rawhttp.truncated(port, headers, body, shape="content-length")


def assert_counts(base_url: str) -> None:
    """The counts of ``traffic``, once the departed client's request has been counted."""
    deadline = time.monotonic() + 10
    while True:
        samples = scrape(base_url)
        if value(samples, "mcp_guard_events_total", event="early_disconnect") or (
            time.monotonic() > deadline
        ):
            break
        time.sleep(0.05)
    calls = {"method": "tools/call"}
    assert value(samples, "mcp_requests_total", **calls, tool=QUICK, outcome="ok") == 3
    assert value(samples, "mcp_requests_total", **calls, tool=FAILING, outcome="tool_error") == 1
    assert value(samples, "mcp_requests_total", method="", tool="", outcome="refused") == 1
    assert value(samples, "mcp_requests_total", method="", tool="", outcome="client_left") == 1
    assert value(samples, "mcp_request_duration_seconds_count", **calls, tool=QUICK) == 3
    assert value(samples, "mcp_guard_events_total", event="early_disconnect") == 1
    assert value(samples, "mcp_guard_events_total", event="refused") == 1
    assert value(samples, "mcp_guard_events_total", event="body_too_large") == 0
    assert value(samples, "mcp_requests_in_flight") == 0
    # Probes and scrapes are not MCP requests.
    assert sum(v for (name, _), v in samples.items() if name == "mcp_requests_total") == 6
