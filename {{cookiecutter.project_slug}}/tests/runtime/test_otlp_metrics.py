"""OTLP metrics: ``mcp.server.operation.duration`` as a collector receives it, on both SDK lines.

The service runs as operators start it, its variables pointing at a real OTLP/HTTP receiver
(``support/otlp.py``). With an export interval far longer than the test, only the exit sends
the histogram: each worker's, counting the calls it answered, named by method and tool as the
MCP semantic conventions say, a tool the server lacks never named. ``OTEL_METRICS_EXPORTER=none``
keeps metrics home while traces still go.
"""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Callable, Iterator

import pytest

from {{ cookiecutter.package_name }}.runtime.otlp_metrics import (
    BUCKETS,
    OPERATION_DURATION,
)
from {{ cookiecutter.package_name }}.runtime.settings import SettingsError
from {{ cookiecutter.package_name }}.runtime.tracing import wanted

from ..support.otlp import Receiver, receiving
from ..support.processes import (
    LISTENING,
    MODULE,
    WORKERS_STARTED,
    Process,
    clean_environment,
    service_port,
    wait_for_startups,
)
from ..support.rpc import LEGACY_PROTOCOL, rpc_request, send
from ..support.tools import FAILING, QUICK, add_call, fail_call

UNKNOWN_TOOL = "no_such_tool"
# What every point says of the operation, beside its method, tool and error.
HTTP: dict[str, str] = {"network.protocol.name": "http", "network.transport": "tcp"}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as started:
        yield started


def environment(receiver: Receiver, **variables: str) -> dict[str, str]:
    """A service's environment: its spans and metrics go to ``receiver``, the metrics only when
    it stops."""
    return {
        **clean_environment(),
        **receiver.env(OTEL_METRIC_EXPORT_INTERVAL="600000", **variables),
    }


def call(url: str, params: dict[str, object]) -> None:
    headers, body = rpc_request("tools/call", params, protocol=LEGACY_PROTOCOL, request_id=7)
    answer = send(url, headers, body)
    assert answer.status == 200, answer


def stop(process: Process) -> None:
    process.popen.send_signal(signal.SIGTERM)
    assert process.wait() == 0, process.output()


@pytest.mark.process
def test_each_worker_sends_the_operation_durations_when_it_stops(
    launch: Callable[..., Process], receiver: Receiver
) -> None:
    env = environment(receiver, OTEL_TRACES_EXPORTER="none")
    process = launch(*MODULE, "--port", "0", "--workers", "2", env=env)
    url = f"http://127.0.0.1:{process.wait_for_stderr(LISTENING).group(1)}/mcp"
    process.wait_for_stderr(WORKERS_STARTED)
    wait_for_startups(process, 2)
    for _ in range(5):
        call(url, add_call())
    call(url, fail_call("expected"))
    call(url, {"name": UNKNOWN_TOOL, "arguments": {}})
    assert receiver.metric_requests == 0

    stop(process)
    points = receiver.wait_for_points(OPERATION_DURATION, timeout=5)
    assert receiver.spans == []
    counts: Counter[tuple[tuple[str, str], ...]] = Counter()
    for point in points:
        assert (point.unit, point.bounds) == ("s", list(BUCKETS)), point
        counts[tuple(sorted(point.attributes.items()))] += point.count
    tool_call = {**HTTP, "mcp.method.name": "tools/call", "gen_ai.operation.name": "execute_tool"}
    quick = {**tool_call, "gen_ai.tool.name": QUICK}
    failing = {**tool_call, "gen_ai.tool.name": FAILING, "error.type": "tool_error"}
    assert counts[tuple(sorted(quick.items()))] == 5, counts
    assert counts[tuple(sorted(failing.items()))] == 1, counts
    unknown = [dict(key) for key in counts if "gen_ai.tool.name" not in dict(key)]
    assert len(unknown) == 1, counts  # counted, with its error, but not by its name
    assert unknown[0]["mcp.method.name"] == "tools/call"
    assert "error.type" in unknown[0]
    assert UNKNOWN_TOOL not in str(points)
    assert sum(counts.values()) == 7


@pytest.mark.process
def test_with_the_metrics_exporter_none_no_metric_leaves(
    launch: Callable[..., Process], receiver: Receiver
) -> None:
    process = launch(
        *MODULE, "--port", "0", env=environment(receiver, OTEL_METRICS_EXPORTER="none")
    )
    url = f"http://127.0.0.1:{service_port(process)}/mcp"
    call(url, add_call())
    stop(process)
    receiver.named(f"tools/call {QUICK}", timeout=5)  # the traces still went
    assert (receiver.metric_requests, receiver.points) == (0, [])


@pytest.mark.quick
@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://collector:4318/v1/metrics"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_METRICS_EXPORTER": "none"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, True),
    ],
)
def test_the_standard_variables_turn_metrics_on(variables: dict[str, str], expected: bool) -> None:
    assert wanted(variables, signal="metrics") is expected


@pytest.mark.quick
def test_a_metrics_protocol_the_service_lacks_is_refused() -> None:
    with pytest.raises(SettingsError, match="OTEL_EXPORTER_OTLP_METRICS_PROTOCOL='grpc'"):
        wanted(
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318",
                "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "grpc",
            },
            signal="metrics",
        )
