"""The MCP conventions' ``mcp.server.operation.duration``, sent over OTLP by the OpenTelemetry SDK.

Imported only when metrics are on (``tracing.py``). The SDK reads the rest of the standard
variables itself: where and how to send (``OTEL_EXPORTER_OTLP_*``), how often
(``OTEL_METRIC_EXPORT_INTERVAL``, 60 s unless it says) and what the service is called (the
resource of ``otlp.py``). Collection and export run in the reader's background thread; what
was recorded since the last export is sent when the process exits (the provider's ``atexit``
hook, or ``flush_metrics`` for a process that ends without one).

The request path pays for one histogram ``record`` per MCP request, with attribute sets made
once per combination: as ``http/metrics.py`` does for Prometheus, only values known in advance
become attributes (the MCP methods, the server's own tools, the outcomes and the JSON-RPC codes
the server answers), so no client can grow the series without bound.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from opentelemetry import metrics
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.util.types import Attributes

from .about import SERVER_NAME, __version__
from .otlp import service_resource
from .requests import Outcome, RequestState

OPERATION_DURATION: Final = "mcp.server.operation.duration"
# The conventions name no boundaries for it, and the SDK's default ones are for milliseconds:
# these are the Prometheus histogram's (``http/metrics.py``), a quick tool's few milliseconds
# to a slow tool's minutes.
BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
# A method no revision of MCP has, as the OpenTelemetry conventions name an unknown one.
OTHER: Final = "_OTHER"
TOOLS_CALL: Final = "tools/call"

_provider: MeterProvider | None = None


def install_metrics() -> None:
    """Make this process's metrics go to the OTLP endpoint the environment names."""
    global _provider
    view = View(
        instrument_name=OPERATION_DURATION,
        aggregation=ExplicitBucketHistogramAggregation(BUCKETS),
    )
    reader = PeriodicExportingMetricReader(OTLPMetricExporter())
    _provider = MeterProvider(metric_readers=[reader], resource=service_resource(), views=[view])
    metrics.set_meter_provider(_provider)


def flush_metrics() -> None:
    """Send what was recorded since the last export; the exporter's timeout bounds the wait."""
    if _provider is not None:
        _provider.force_flush()


class OperationDuration:
    """Records each MCP request's duration, once it is answered: the access middleware's hook.

    ``has_tool`` says whether the server has a tool of a name: only those are named.
    """

    def __init__(self, has_tool: Callable[[str], bool], methods: frozenset[str]) -> None:
        self.has_tool = has_tool
        self.methods = methods
        self.histogram = metrics.get_meter(SERVER_NAME, __version__).create_histogram(
            OPERATION_DURATION,
            unit="s",
            description="MCP request duration as observed on the server, from its arrival "
            "until its answer is sent.",
        )
        self._tools: set[str] = set()  # names has_tool has said yes to: at most the server's
        self._attributes: dict[tuple[str, str | None, Outcome, int | None], Attributes] = {}

    def __call__(self, state: RequestState) -> None:
        method = state.method
        if method is None:  # not an MCP request: a stream's GET, a body the guard refused
            return
        if method not in self.methods:
            method = OTHER
        tool = None
        name = state.name
        if method == TOOLS_CALL and name is not None and self._known(name):
            tool = name
        key = (method, tool, state.outcome, state.code)
        attributes = self._attributes.get(key)
        if attributes is None:
            attributes = self._attributes[key] = operation_attributes(*key)
        self.histogram.record(state.elapsed_ms() / 1000, attributes)

    def _known(self, name: str) -> bool:
        if name in self._tools or self.has_tool(name):
            self._tools.add(name)
            return True
        return False


def operation_attributes(
    method: str, tool: str | None, outcome: Outcome, code: int | None
) -> Attributes:
    """What the conventions say of an operation: its method, its tool, and how it failed."""
    attributes: dict[str, str] = {
        "mcp.method.name": method,
        "network.protocol.name": "http",
        "network.transport": "tcp",
    }
    if method == TOOLS_CALL:
        attributes["gen_ai.operation.name"] = "execute_tool"
        if tool is not None:
            attributes["gen_ai.tool.name"] = tool
    if outcome is Outcome.RPC_ERROR and code is not None:
        attributes["error.type"] = attributes["rpc.response.status_code"] = str(code)
    elif outcome is not Outcome.OK:
        attributes["error.type"] = str(outcome)  # tool_error, as the conventions say, or ours
    return attributes
