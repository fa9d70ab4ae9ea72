"""Traces, exported over OTLP/HTTP when the standard OpenTelemetry variables ask for them.

Decided once per process, at startup: with ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) set, and neither ``OTEL_SDK_DISABLED=true`` nor
``OTEL_TRACES_EXPORTER=none``, ``start_tracing`` installs the OpenTelemetry SDK's pipeline
(``otlp.py``) in the process that serves, and ``active()`` tells the request path to take the
caller's ``traceparent`` (``http/trace_context.py``). Otherwise nothing of it is imported and
nothing of it runs on the request path: the SDK's own spans (2.x) go to the API's no-op tracer,
as they do in the bare SDK. What the spans say is in ``docs/operating.md``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Final

from .settings import ServiceSettings, SettingsError

ENDPOINTS: Final = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
PROTOCOLS: Final = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
# The one exporter and wire format this service has: the SDK's OTLP exporter over HTTP.
EXPORTER: Final = "otlp"
PROTOCOL: Final = "http/protobuf"

_started = False


def wanted(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the environment asks for traces to be exported.

    Raises:
        SettingsError: it asks for an exporter or a protocol this service does not have.
    """
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter_names = environ.get("OTEL_TRACES_EXPORTER", "").lower().split(",")
    exporters = {name.strip() for name in exporter_names} - {""}
    if "none" in exporters:
        return False
    if not any(environ.get(name, "").strip() for name in ENDPOINTS):
        return False
    if exporters - {EXPORTER}:
        value = environ["OTEL_TRACES_EXPORTER"]
        raise SettingsError(f"OTEL_TRACES_EXPORTER={value!r}: this service exports over {EXPORTER}")
    for name in PROTOCOLS:
        protocol = environ.get(name, "").strip()
        if protocol and protocol != PROTOCOL:
            raise SettingsError(f"{name}={protocol!r}: this service exports over {PROTOCOL}")
    return True


def start_tracing(settings: ServiceSettings) -> bool:
    """Export this process's spans if the environment asks for it; once per process.

    Call it in the process that serves, before its app is built (the workers of ``--workers``
    each call it). Spans are batched in a background thread and flushed when the process exits.
    Returns whether traces are on.

    Raises:
        SettingsError: the environment asks for what this service does not have.
    """
    global _started
    if not _started and wanted():
        from .otlp import install_pipeline  # the SDK, imported only when traces are on

        install_pipeline(keep_exception_text=settings.trace_exception_text)
        _started = True
    return _started


def active() -> bool:
    """Whether this process exports traces (``start_tracing`` has installed the pipeline)."""
    return _started


def flush() -> None:
    """Export the spans still waiting, for a process about to end without running ``atexit``."""
    if _started:
        from .otlp import flush_pipeline

        flush_pipeline()
