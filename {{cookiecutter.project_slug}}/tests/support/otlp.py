"""A real OTLP/HTTP receiver for tests: what a collector gets from the service, decoded.

It listens on 127.0.0.1, on a free port, takes ``POST /v1/traces`` and ``POST /v1/metrics``
bodies as the OpenTelemetry exporters send them (protobuf, gzip or not), decodes each with the
OpenTelemetry protocol's own message classes and keeps the spans and the histograms' data
points; ``env()`` is what a service needs to send them there.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

# A caller's trace context, as W3C Trace Context writes it: version, trace id, parent id, flags.
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
CALLER = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"
# Another, as a client puts it in a message's params._meta.
META_TRACE = "0af7651916cd43dd8448eb211c80319c"
META_SPAN = "b7ad6b7169203331"
META_CALLER = f"00-{META_TRACE}-{META_SPAN}-01"


@dataclass(frozen=True)
class ReceivedSpan:
    """One span as the receiver decoded it, with its resource's and its scope's names."""

    name: str
    kind: str  # "SERVER", "CLIENT", ...
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any]
    status: str  # "UNSET", "OK", "ERROR"
    status_message: str
    events: list[tuple[str, dict[str, Any]]]
    resource: dict[str, Any]
    scope: str

    def text(self) -> str:
        """Every string the span carries, for a test that looks for what must not be there."""
        strings = [self.name, self.status_message, *map(str, self.attributes.values())]
        for name, attributes in self.events:
            strings += [name, *map(str, attributes.values())]
        return "\n".join(strings)


@dataclass(frozen=True)
class ReceivedPoint:
    """One histogram data point as the receiver decoded it, with its metric's name and unit."""

    name: str
    unit: str
    attributes: dict[str, Any]
    count: int
    bounds: list[float]


class Receiver:
    """The receiver's server and the spans and histogram points it has received, in order."""

    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self.points: list[ReceivedPoint] = []
        self.metric_requests = 0
        self.requests = 0
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path == "/v1/traces":
                    receiver.received(ExportTraceServiceRequest.FromString(body))
                    answer = ExportTraceServiceResponse().SerializeToString()
                elif self.path == "/v1/metrics":
                    receiver.received_metrics(ExportMetricsServiceRequest.FromString(body))
                    answer = ExportMetricsServiceResponse().SerializeToString()
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the test's output is the service's

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def env(self, **variables: str) -> dict[str, str]:
        """The OpenTelemetry variables that send a service's spans here, soon after they end."""
        return {
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "50",
            **variables,
        }

    def received(self, request: ExportTraceServiceRequest) -> None:
        spans = [
            _span(span, _attributes(resource_spans.resource.attributes), scope_spans.scope.name)
            for resource_spans in request.resource_spans
            for scope_spans in resource_spans.scope_spans
            for span in scope_spans.spans
        ]
        with self._changed:
            self.requests += 1
            self.spans += spans
            self._changed.notify_all()

    def received_metrics(self, request: ExportMetricsServiceRequest) -> None:
        points = [
            ReceivedPoint(
                metric.name,
                metric.unit,
                _attributes(point.attributes),
                point.count,
                list(point.explicit_bounds),
            )
            for resource_metrics in request.resource_metrics
            for scope_metrics in resource_metrics.scope_metrics
            for metric in scope_metrics.metrics
            if metric.WhichOneof("data") == "histogram"
            for point in metric.histogram.data_points
        ]
        with self._changed:
            self.metric_requests += 1
            self.points += points
            self._changed.notify_all()

    def wait_for_points(self, name: str, *, timeout: float = 15) -> list[ReceivedPoint]:
        """The data points of the histogram ``name``, once some have arrived."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not (found := [point for point in self.points if point.name == name]):
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"no {name}; received: {self.points}"
                self._changed.wait(remaining)
            return found

    def wait_for(
        self, predicate: Callable[[ReceivedSpan], bool], *, count: int = 1, timeout: float = 15
    ) -> list[ReceivedSpan]:
        """The first ``count`` spans that ``predicate`` accepts, once they have arrived."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(found := [span for span in self.spans if predicate(span)]) < count:
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"{len(found)} of {count} spans; received: {self.spans}"
                self._changed.wait(remaining)
            return found[:count]

    def named(self, name: str, *, count: int = 1, timeout: float = 15) -> list[ReceivedSpan]:
        return self.wait_for(lambda span: span.name == name, count=count, timeout=timeout)


@contextmanager
def receiving() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


def traceparent_meta(traceparent: str = META_CALLER) -> dict[str, Any]:
    """A message's ``params._meta`` carrying a trace context, as the conventions place it."""
    return {"_meta": {"traceparent": traceparent}}


def _span(span: Span, resource: dict[str, Any], scope: str) -> ReceivedSpan:
    return ReceivedSpan(
        name=span.name,
        kind=Span.SpanKind.Name(span.kind).removeprefix("SPAN_KIND_"),
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_span_id=span.parent_span_id.hex(),
        attributes=_attributes(span.attributes),
        status=Status.StatusCode.Name(span.status.code).removeprefix("STATUS_CODE_"),
        status_message=span.status.message,
        events=[(event.name, _attributes(event.attributes)) for event in span.events],
        resource=resource,
        scope=scope,
    )


def _attributes(pairs: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for pair in pairs:
        assert isinstance(pair, KeyValue)
        found[pair.key] = _value(pair.value)
    return found


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    return None if kind is None else getattr(value, kind)
