"""The OpenTelemetry SDK's pipeline: spans batched, stripped of exception text, sent over OTLP.

Imported only when traces are on (``tracing.py``). The SDK reads the rest of the standard
variables itself: where and how to send (``OTEL_EXPORTER_OTLP_*``: endpoint, headers, timeout,
compression, certificate), what to keep (``OTEL_TRACES_SAMPLER``), how to batch
(``OTEL_BSP_*``), how to propagate (``OTEL_PROPAGATORS``) and what the service is called
(``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``; the service's name and version unless
they say otherwise).

The batch goes out from a background thread, never from the request path, and what is still
waiting is sent when the process exits (the provider's ``atexit`` hook).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import (
    SERVICE_NAME,
    SERVICE_VERSION,
    OTELResourceDetector,
    Resource,
)
from opentelemetry.sdk.trace import Event, ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, Status, format_trace_id

from .about import SERVER_NAME, __version__
from .requests import current

# What an exception event says beyond the exception's type: its message and its traceback.
EXCEPTION_TEXT: Final = frozenset({"exception.message", "exception.stacktrace"})
RESOURCE_URI: Final = "mcp.resource.uri"
_METHOD: Final = "mcp.method.name"

_provider: TracerProvider | None = None


def install_pipeline(*, keep_exception_text: bool) -> None:
    """Make this process's spans go to the OTLP endpoint the environment names."""
    global _provider
    exporter: SpanExporter = OTLPSpanExporter()
    if not keep_exception_text:
        exporter = WithoutExceptionText(exporter)
    provider = TracerProvider(resource=service_resource())
    provider.add_span_processor(RequestSpans())
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _provider = provider


def flush_pipeline() -> None:
    """Send the spans still waiting; the exporter's timeout (``OTEL_EXPORTER_OTLP_TIMEOUT``)
    bounds the wait."""
    if _provider is not None:
        _provider.force_flush()


def service_resource() -> Resource:
    """What the spans say about the service: its name and version, unless the variables say."""
    from_environment = OTELResourceDetector().detect().attributes
    return Resource.create(
        {SERVICE_NAME: SERVER_NAME, SERVICE_VERSION: __version__, **from_environment}
    )


class RequestSpans(SpanProcessor):
    """Ties an HTTP request's MCP server span to what the request path knows of the request.

    When the span starts (on the thread that starts it, inside the request), its trace id goes
    on the request's state, for the access line and the JSON log lines; a resource's span gets
    the URI the guard read (``mcp.resource.uri``, the first 200 characters), which 2.x's does
    not set. Nothing else: the span's own attributes come from the SDK (2.x) or
    ``server_spans.py`` (1.x).
    """

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        state = current.get()
        if state is None or span.kind is not SpanKind.SERVER:
            return
        started: trace.Span = span  # the API's signatures are typed on every SDK release
        state.trace_id = format_trace_id(started.get_span_context().trace_id)
        attributes = span.attributes or {}
        if attributes.get(_METHOD) == "resources/read" and state.name is not None:
            span.set_attribute(RESOURCE_URI, state.name)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        # Nothing to flush; but the provider stops flushing at the first processor that does
        # not say True, and the base class says nothing on some SDK releases (1.28).
        return True


class WithoutExceptionText(SpanExporter):
    """Sends spans on without the text of errors: status descriptions, exception messages and
    tracebacks, whoever recorded them (the SDK, the template or the team's code).

    A span still says that it failed and how: its status is ERROR, ``error.type`` names the
    JSON-RPC code or the exception's type, and an exception event keeps ``exception.type``.
    ``TRACE_EXCEPTION_TEXT=true`` sends spans as they were recorded instead. It runs in the
    exporting thread, off the request path.
    """

    def __init__(self, exporter: SpanExporter) -> None:
        self.exporter = exporter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.exporter.export([without_exception_text(span) for span in spans])

    def shutdown(self) -> None:
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.exporter.force_flush(timeout_millis)


def without_exception_text(span: ReadableSpan) -> ReadableSpan:
    """``span``, or a copy of it without its status description and exception text."""
    described = span.status.description is not None
    exceptions = any(event.name == "exception" for event in span.events)
    if not described and not exceptions:
        return span
    events = [
        Event(
            event.name,
            {
                name: value
                for name, value in (event.attributes or {}).items()
                if name not in EXCEPTION_TEXT
            },
            event.timestamp,
        )
        if event.name == "exception"
        else event
        for event in span.events
    ]
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=span.attributes,
        events=events,
        links=span.links,
        kind=span.kind,
        status=Status(span.status.status_code),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )
