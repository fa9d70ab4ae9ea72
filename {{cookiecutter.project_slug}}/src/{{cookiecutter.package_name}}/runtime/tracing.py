"""Traces and metrics, exported over OTLP/HTTP when the standard OpenTelemetry variables ask.

Decided once per process, at startup: with ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) set, and neither ``OTEL_SDK_DISABLED=true`` nor
``OTEL_TRACES_EXPORTER=none``, ``start_tracing`` installs the OpenTelemetry SDK's pipeline
(``otlp.py``) in the process that serves, and ``active()`` tells the request path to take the
caller's ``traceparent`` (``http/trace_context.py``). Otherwise nothing of it is imported and
nothing of it runs on the request path: the SDK's own spans (2.x) go to the API's no-op tracer,
as they do in the bare SDK. The MCP conventions' ``mcp.server.operation.duration`` is decided
the same way, from the ``METRICS`` variables (``metrics_active()``, ``otlp_metrics.py``). What
the spans and the metric say is in ``docs/operating.md``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Final

from .settings import ServiceSettings, SettingsError

# The one exporter and wire format this service has: the SDK's OTLP exporter over HTTP.
EXPORTER: Final = "otlp"
PROTOCOL: Final = "http/protobuf"

_started = False
_metrics_started = False


def wanted(environ: Mapping[str, str] = os.environ, signal: str = "traces") -> bool:
    """Whether the environment asks for ``signal`` (``traces`` or ``metrics``) to be exported.

    Raises:
        SettingsError: it asks for an exporter or a protocol this service does not have.
    """
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter_variable = f"OTEL_{signal.upper()}_EXPORTER"
    exporter_names = environ.get(exporter_variable, "").lower().split(",")
    exporters = {name.strip() for name in exporter_names} - {""}
    if "none" in exporters:
        return False
    endpoints = (f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
    if not any(environ.get(name, "").strip() for name in endpoints):
        return False
    if exporters - {EXPORTER}:
        value = environ[exporter_variable]
        raise SettingsError(f"{exporter_variable}={value!r}: this service exports over {EXPORTER}")
    for name in (f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
        protocol = environ.get(name, "").strip()
        if protocol and protocol != PROTOCOL:
            raise SettingsError(f"{name}={protocol!r}: this service exports over {PROTOCOL}")
    return True


def start_tracing(settings: ServiceSettings) -> bool:
    """Export this process's spans and metrics if the environment asks for them; once per
    process.

    Call it in the process that serves, before its app is built (the workers of ``--workers``
    each call it). Spans are batched, and metrics collected, in background threads; what is
    still waiting is sent when the process exits. Returns whether traces are on.

    Raises:
        SettingsError: the environment asks for what this service does not have.
    """
    global _started, _metrics_started
    if not _started and wanted():
        from .otlp import install_pipeline  # the SDK, imported only when traces are on

        install_pipeline(keep_exception_text=settings.trace_exception_text)
        _started = True
    if not _metrics_started and wanted(signal="metrics"):
        from .otlp_metrics import install_metrics  # the SDK, only when metrics are on

        install_metrics()
        _metrics_started = True
    return _started


def active() -> bool:
    """Whether this process exports traces (``start_tracing`` has installed the pipeline)."""
    return _started


def metrics_active() -> bool:
    """Whether this process exports metrics (``start_tracing`` has installed their pipeline)."""
    return _metrics_started


def flush() -> None:
    """Export the spans and metrics still waiting, for a process about to end without running
    ``atexit``."""
    if _started:
        from .otlp import flush_pipeline

        flush_pipeline()
    if _metrics_started:
        from .otlp_metrics import flush_metrics

        flush_metrics()
