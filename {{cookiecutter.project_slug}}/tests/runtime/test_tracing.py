"""Traces: the service's spans as a collector receives them, on both SDK lines.

The service runs as operators start it, with ``OTEL_EXPORTER_OTLP_ENDPOINT`` pointing at a real
OTLP/HTTP receiver the test runs (``support/otlp.py``), which decodes what arrives with the
OpenTelemetry protocol's own classes. The MCP server span of a call names the tool and carries
the caller's trace, from the ``traceparent`` header or from ``params._meta``; the access line
and the JSON log lines name the same trace; the text of errors stays out of spans unless
``TRACE_EXCEPTION_TEXT`` lets it in. Without the variables, nothing of it is loaded.
"""

from __future__ import annotations

import json
import re
import signal
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from {{ cookiecutter.package_name }} import SERVER_NAME
from {{ cookiecutter.package_name }}.runtime.otlp import WithoutExceptionText
from {{ cookiecutter.package_name }}.runtime.settings import SettingsError
from {{ cookiecutter.package_name }}.runtime.tracing import wanted

from ..support.client import PROTOCOLS
from ..support.otlp import (
    CALLER,
    CALLER_SPAN,
    CALLER_TRACE,
    META_SPAN,
    META_TRACE,
    ReceivedSpan,
    Receiver,
    receiving,
    traceparent_meta,
)
from ..support.processes import (
    LISTENING,
    MODULE,
    PACKAGE,
    WORKERS_STARTED,
    Process,
    clean_environment,
    run,
    service_port,
    wait_for_startups,
)
from ..support.rpc import LEGACY_PROTOCOL, rpc_request, send
from ..support.tools import (
    BUG,
    EXPECTED_FAILURE,
    FAILING,
    ITEMS,
    MISSING,
    PROMPT,
    QUICK,
    UNAVAILABLE,
    add_call,
    fail_call,
)
from .test_stdio import StdioProcess

TOOL_SPAN = f"tools/call {QUICK}"
FAILING_SPAN = f"tools/call {FAILING}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as started:
        yield started


def traced_environment(receiver: Receiver, **settings: str) -> dict[str, str]:
    """The environment of a service whose spans go to ``receiver``, with ``settings``."""
    return {**clean_environment(**settings), **receiver.env()}


def start_traced(launch: Callable[..., Process], receiver: Receiver, **settings: str) -> Process:
    """The service, its spans sent to ``receiver``."""
    return launch(*MODULE, "--port", "0", env=traced_environment(receiver, **settings))


def call(url: str, method: str, params: dict[str, Any], **headers: str) -> str:
    """Send one request in the handshake-era revision both lines speak; its request id."""
    rpc_headers, body = rpc_request(method, params, protocol=LEGACY_PROTOCOL, request_id=7)
    answer = send(url, {**rpc_headers, **headers}, body)
    assert answer.status == 200, answer
    return answer.headers["x-request-id"]


def answering(request_id: int) -> Callable[[ReceivedSpan], bool]:
    """Whether a span is that of the request with JSON-RPC id ``request_id``."""
    return lambda span: span.attributes.get("jsonrpc.request.id") == str(request_id)


@pytest.mark.process
def test_a_tool_call_is_a_server_span_in_the_caller_s_trace_and_its_access_line_names_it(
    launch: Callable[..., Process], receiver: Receiver
) -> None:
    process = start_traced(launch, receiver)
    url = f"http://127.0.0.1:{service_port(process)}/mcp"
    for number, protocol in enumerate(PROTOCOLS, start=1):
        headers, body = rpc_request("tools/call", add_call(), protocol=protocol, request_id=number)
        answer = send(url, {**headers, "traceparent": CALLER}, body)
        assert answer.result["structuredContent"] == {"result": 5.0}, answer
        (span,) = receiver.wait_for(answering(number))
        assert span.name == TOOL_SPAN
        assert span.kind == "SERVER"
        assert (span.trace_id, span.parent_span_id) == (CALLER_TRACE, CALLER_SPAN)
        assert span.attributes == {
            "mcp.method.name": "tools/call",
            "mcp.protocol.version": protocol,
            "jsonrpc.request.id": str(number),
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": QUICK,
        }
        assert (span.status, span.events) == ("UNSET", [])
        assert span.resource["service.name"] == SERVER_NAME
        request = answer.headers["x-request-id"]
        line = process.wait_for_stderr(re.compile(rf"access: .*, request {request}\b.*$"))
        assert line.group(0).endswith(f", request {request}, trace {CALLER_TRACE}"), line


@pytest.mark.process
def test_the_message_s_trace_context_wins_and_every_json_line_names_its_trace(
    launch: Callable[..., Process], receiver: Receiver
) -> None:
    """``params._meta`` is the server span's parent, as the conventions say, and its trace is
    the one the log names; without either, a trace of the service's own is named."""
    process = start_traced(launch, receiver, LOG_FORMAT="json")
    url = f"http://127.0.0.1:{service_port(process)}/mcp"
    failing = call(
        url, "tools/call", {**fail_call("expected"), **traceparent_meta()}, traceparent=CALLER
    )
    untraced = call(url, "tools/call", add_call())

    (span,) = receiver.named(FAILING_SPAN)
    assert (span.trace_id, span.parent_span_id) == (META_TRACE, META_SPAN)
    assert (span.attributes["error.type"], span.status) == ("tool_error", "ERROR")
    (own,) = receiver.named(TOOL_SPAN)
    assert own.parent_span_id == ""
    assert own.trace_id not in (META_TRACE, CALLER_TRACE)

    process.popen.send_signal(signal.SIGTERM)
    assert process.wait() == 0, process.output()
    records = [json.loads(line) for line in process.stderr]
    lines = {
        request: [record for record in records if record.get("request_id") == request]
        for request in (failing, untraced)
    }
    assert len(lines[failing]) == 2, lines  # the tool's failure and the access line
    assert all(record["trace_id"] == META_TRACE for record in lines[failing]), lines
    (access,) = lines[untraced]
    assert access["trace_id"] == own.trace_id
    assert access["message"].endswith(f"trace {own.trace_id}")


def failures(url: str) -> None:
    """One request for each way a tool, resource or prompt fails (``errors.py``)."""
    call(url, "tools/call", fail_call("expected"))
    call(url, "tools/call", fail_call("bug"))
    call(url, "tools/call", {"name": "no_such_tool", "arguments": {}})
    for failure in ("missing", "unavailable", "bug"):
        call(url, "resources/read", {"uri": ITEMS.format(name=failure)})
    call(url, "prompts/get", {"name": PROMPT, "arguments": {"topic": "x", "kind": "bug"}})


@pytest.mark.process
@pytest.mark.parametrize("text_allowed", [False, True], ids=["default", "text_allowed"])
def test_error_text_stays_out_of_spans_unless_a_setting_lets_it_in(
    launch: Callable[..., Process], receiver: Receiver, text_allowed: bool
) -> None:
    settings = {"TRACE_EXCEPTION_TEXT": "true"} if text_allowed else {}
    process = start_traced(launch, receiver, **settings)
    failures(f"http://127.0.0.1:{service_port(process)}/mcp")

    spans = receiver.wait_for(lambda span: span.status == "ERROR", count=7)
    by_kind = {
        (span.name, span.attributes.get("mcp.resource.uri")): span.attributes["error.type"]
        for span in spans
    }
    assert by_kind == {
        (FAILING_SPAN, None): "tool_error",
        ("tools/call no_such_tool", None): "-32602",
        ("resources/read", ITEMS.format(name="missing")): "-32002",
        ("resources/read", ITEMS.format(name="unavailable")): "-32603",
        ("resources/read", ITEMS.format(name="bug")): "-32603",
        (f"prompts/get {PROMPT}", None): "-32603",
    }, spans
    everything = "\n".join(span.text() for span in receiver.spans)
    assert BUG not in everything  # a bug's text goes to the log only, whatever the setting
    unavailable = next(
        s for s in spans if s.attributes.get("mcp.resource.uri", "").endswith("unavailable")
    )
    if text_allowed:
        assert unavailable.status_message == UNAVAILABLE
        assert MISSING in everything
    else:
        assert [span.status_message for span in spans] == [""] * len(spans)
        for text in (EXPECTED_FAILURE, MISSING, UNAVAILABLE, "Unknown tool"):
            assert text not in everything


@pytest.mark.quick
def test_the_exporter_strips_the_text_of_any_span_s_error() -> None:
    """The team's own spans too: an exception event keeps its type, loses message and trace."""
    received = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(WithoutExceptionText(received)))
    tracer = provider.get_tracer("the team's")
    with tracer.start_as_current_span("lookup") as span:
        span.record_exception(ValueError("customer 4711 not found"))
        span.set_status(StatusCode.ERROR, "customer 4711 not found")
    with tracer.start_as_current_span("fine"):
        pass
    failed, fine = received.get_finished_spans()
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.status.description is None
    ((name, attributes),) = [(event.name, dict(event.attributes or {})) for event in failed.events]
    assert (name, attributes) == (
        "exception",
        {"exception.type": "ValueError", "exception.escaped": "False"},
    )
    assert fine.name == "fine"


@pytest.mark.process
def test_each_worker_sends_the_spans_still_waiting_when_it_stops(
    launch: Callable[..., Process], receiver: Receiver
) -> None:
    """With a batch delay far longer than the test, only the exit sends them."""
    env = {**traced_environment(receiver), "OTEL_BSP_SCHEDULE_DELAY": "600000"}
    process = launch(*MODULE, "--port", "0", "--workers", "2", env=env)
    url = f"http://127.0.0.1:{process.wait_for_stderr(LISTENING).group(1)}/mcp"
    process.wait_for_stderr(WORKERS_STARTED)
    wait_for_startups(process, 2)
    requests = {call(url, "tools/call", add_call(), traceparent=CALLER) for _ in range(6)}
    assert receiver.spans == []

    process.popen.send_signal(signal.SIGTERM)
    assert process.wait() == 0, process.output()
    spans = receiver.named(TOOL_SPAN, count=6, timeout=5)
    assert {span.trace_id for span in spans} == {CALLER_TRACE}
    assert len(requests) == 6


@pytest.mark.process
@pytest.mark.parametrize("stop", ["stdin closed", "SIGTERM"])
def test_over_stdio_the_message_s_trace_context_is_the_parent(
    receiver: Receiver, stop: str
) -> None:
    """A desktop client's spans, sent when it closes stdin or stops the server with SIGTERM
    (which ends the process at once: the spans still waiting are sent first)."""
    env = {**traced_environment(receiver), "OTEL_BSP_SCHEDULE_DELAY": "600000"}
    process = StdioProcess([*MODULE, "--transport", "stdio"], env)
    process.initialize()
    answer = process.request(2, "tools/call", {**add_call(), **traceparent_meta()})
    assert answer["result"]["structuredContent"] == {"result": 5.0}, answer
    if stop == "SIGTERM":
        process.popen.send_signal(signal.SIGTERM)
    code, _, stderr = process.finish()
    assert code == 0, stderr
    (span,) = receiver.named(TOOL_SPAN, timeout=5)
    assert (span.trace_id, span.parent_span_id) == (META_TRACE, META_SPAN)
    assert span.attributes["jsonrpc.request.id"] == "2"


@pytest.mark.process
@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "OTEL_EXPORTER_OTLP_PROTOCOL='grpc'"),
        ({"OTEL_TRACES_EXPORTER": "console"}, "OTEL_TRACES_EXPORTER='console'"),
    ],
)
def test_what_the_service_cannot_export_stops_it_in_one_line(
    receiver: Receiver, variables: dict[str, str], message: str
) -> None:
    result = run(*MODULE, "--port", "0", env={**traced_environment(receiver), **variables})
    assert result.returncode == 2, result
    assert result.stderr == f"{SERVER_NAME}: error: {message}: this service exports over " + (
        "http/protobuf\n" if "PROTOCOL" in message else "otlp\n"
    )


@pytest.mark.quick
@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "TRUE"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "otlp"}, True),
        (
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            },
            True,
        ),
        ({"OTEL_TRACES_EXPORTER": "console"}, False),  # no endpoint: nothing is exported
    ],
)
def test_the_standard_variables_turn_traces_on(variables: dict[str, str], expected: bool) -> None:
    assert wanted(variables) is expected


@pytest.mark.quick
def test_an_exporter_the_service_lacks_is_refused() -> None:
    with pytest.raises(SettingsError, match="OTEL_TRACES_EXPORTER='otlp,zipkin'"):
        wanted(
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "otlp,zipkin"}
        )


@pytest.mark.process
def test_without_the_variables_nothing_of_traces_is_loaded() -> None:
    """The process serves as it would with no tracing at all: no SDK, no middleware."""
    code = f"""
import sys
from {PACKAGE}.app import service
from {PACKAGE}.runtime.serving.bootstrap import started_app
app = started_app(service, service.read_settings())
print(sorted(m.cls.__name__ for m in app.user_middleware))
print(sorted(name for name in sys.modules if name.startswith("opentelemetry.sdk")))
"""
    result = run(sys.executable, "-c", code)
    assert result.returncode == 0, result.stderr
    middleware, sdk_modules = result.stdout.splitlines()
    assert "TraceContext" not in middleware
    assert "AccessLog" in middleware
    assert sdk_modules == "[]"
