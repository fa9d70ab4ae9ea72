"""Prometheus metrics, served at ``GET /metrics`` through the official ``prometheus-client``.

What is counted (requests by JSON-RPC method, tool and outcome; their latency; requests in
flight; the guard's events) and how to keep it private are in ``docs/operating.md`` and
``docs/security.md``. Labels take only values known in advance (the MCP methods, the tools the
server has, the outcomes and events of ``requests.py``); anything a client makes up is counted
as ``other``, so no client can grow the series without bound.

Under ``--workers`` the supervisor gives every worker one ``PROMETHEUS_MULTIPROC_DIR``
(``workers.py``), and each worker's ``/metrics`` reports the sum over all of them: whichever
worker a scrape reaches, the figures are the service's.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess
from starlette.requests import Request
from starlette.responses import Response

from ..requests import Event, RequestState

MULTIPROCESS_DIR: Final = "PROMETHEUS_MULTIPROC_DIR"
OTHER: Final = "other"
# The JSON-RPC methods of MCP's revisions that a client sends: the values of the method label.
MCP_METHODS: Final = frozenset(
    {
        "initialize",
        "ping",
        "tools/list",
        "tools/call",
        "resources/list",
        "resources/templates/list",
        "resources/read",
        "resources/subscribe",
        "resources/unsubscribe",
        "prompts/list",
        "prompts/get",
        "completion/complete",
        "logging/setLevel",
        "server/discover",
        "subscriptions/listen",
        "notifications/initialized",
        "notifications/cancelled",
        "notifications/progress",
        "notifications/roots/list_changed",
    }
)
# Seconds: from a quick tool's few milliseconds to a slow tool's minutes.
LATENCY_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


class Metrics:
    """The service's metrics: one instance per app, fed by the access middleware.

    ``has_tool`` says whether the server has a tool of a name: only those are labelled by name.
    """

    def __init__(self, has_tool: Callable[[str], bool]) -> None:
        self.has_tool = has_tool
        self._tools: set[str] = set()  # names has_tool has said yes to: at most the server's
        self.multiprocess = bool(os.environ.get(MULTIPROCESS_DIR))
        # Each app counts in a registry of its own (tests build many apps in one process);
        # under several workers, every process writes to the shared directory instead.
        self.registry = CollectorRegistry()
        own = None if self.multiprocess else self.registry
        if self.multiprocess:
            prometheus_multiprocess.MultiProcessCollector(self.registry)  # type: ignore[no-untyped-call]
        self.requests = Counter(
            "mcp_requests",
            "MCP requests answered, by JSON-RPC method, tool and outcome.",
            ("method", "tool", "outcome"),
            registry=own,
        )
        self.latency = Histogram(
            "mcp_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by method and tool.",
            ("method", "tool"),
            buckets=LATENCY_BUCKETS,
            registry=own,
        )
        self.in_flight = Gauge(
            "mcp_requests_in_flight",
            "MCP requests being answered now.",
            registry=own,
            multiprocess_mode="livesum",
        )
        self.guard_events = Counter(
            "mcp_guard_events",
            "Requests the guard or the limits refused, and clients that left early.",
            ("event",),
            registry=own,
        )
        # Label children made once: the request path only looks them up.
        self._events = {event: self.guard_events.labels(event) for event in Event}
        self._requests: dict[tuple[str, str, str], Counter] = {}
        self._latency: dict[tuple[str, str], Histogram] = {}

    def started(self) -> None:
        self.in_flight.inc()

    def finished(self, state: RequestState) -> None:
        """Count an answered request."""
        self.in_flight.dec()
        method = state.method or ""
        if method and method not in MCP_METHODS:
            method = OTHER
        tool = ""
        if method == "tools/call":
            tool = OTHER
            name = state.name
            if name is not None and (name in self._tools or self.has_tool(name)):
                self._tools.add(name)
                tool = name
        key = (method, tool, state.outcome)
        counter = self._requests.get(key)
        if counter is None:
            counter = self._requests[key] = self.requests.labels(*key)
        counter.inc()
        histogram = self._latency.get(key[:2])
        if histogram is None:
            histogram = self._latency[key[:2]] = self.latency.labels(method, tool)
        histogram.observe(state.elapsed_ms() / 1000)
        if state.event is not None:
            self._events[state.event].inc()

    async def endpoint(self, request: Request) -> Response:
        """``GET /metrics``: the Prometheus text format."""
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)
