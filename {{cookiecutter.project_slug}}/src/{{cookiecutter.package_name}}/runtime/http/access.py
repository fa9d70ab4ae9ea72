"""One access line per HTTP request, and its request id, for every layer below.

The outermost middleware: it gives each request its ``RequestState`` (``requests.py``) before
anything else runs, so the guard's warnings, a tool's log lines and the access line all name
the same request id, and echoes that id in an ``X-Request-ID`` response header. When the
request is answered it writes the access line (at INFO; at DEBUG for the probes and scrapes of
``QUIET_PATHS``), naming the request's trace when traces are on, and hands the state to the
metrics, and to the OTLP metric's hook when metrics are exported (``otlp_metrics.py``). What
the line says is in ``docs/operating.md``; uvicorn's own access line is switched off
(``logs.py``) in its favour.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..requests import Outcome, RequestState, client_address, current, request_id
from .metrics import Metrics

logger = logging.getLogger(__name__)

# Asked every few seconds by load balancers and scrapers: their lines are written at DEBUG.
# Matched at the end of the path, so that they stay quiet when the app is mounted under one.
QUIET_PATHS: Final = ("/healthz", "/metrics")


class AccessLog:
    """Pure ASGI middleware: request id, ``X-Request-ID`` echo, access line, metrics."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics | None = None,
        record: Callable[[RequestState], None] | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.record = record  # None unless OTLP metrics are on: then nothing is paid here

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = RequestState(request_id(scope))
        echo = (b"x-request-id", state.request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                state.status = message["status"]
                # A new list: a response built once at startup must not collect the ids.
                message = {**message, "headers": [*message.get("headers", ()), echo]}
            await send(message)

        quiet = scope["path"].endswith(QUIET_PATHS)
        metrics = None if quiet else self.metrics
        if metrics is not None:
            metrics.started()
        token = current.set(state)
        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            state.status = state.status or 500  # what the server's error handler answers
            raise
        finally:
            current.reset(token)
            if state.outcome is Outcome.OK and state.status >= 400:
                state.outcome = Outcome.HTTP_ERROR
            if metrics is not None:
                metrics.finished(state)
            if self.record is not None and not quiet:
                self.record(state)
            self._log(scope, state, logging.DEBUG if quiet else logging.INFO)

    def _log(self, scope: Scope, state: RequestState, level: int) -> None:
        if not logger.isEnabledFor(level):
            return
        duration_ms = round(state.elapsed_ms(), 1)
        client = client_address(scope)
        what = f" {state.method}" if state.method is not None else ""
        if state.name is not None:
            what += f" {state.name}"
        outcome = (
            f"{state.outcome} {state.code}" if state.outcome is Outcome.RPC_ERROR else state.outcome
        )
        rpc_id = f", id {state.rpc_id}" if state.rpc_id is not None else ""
        trace = f", trace {state.trace_id}" if state.trace_id is not None else ""
        logger.log(
            level,
            "%s %s%s -> %s (HTTP %d) in %.1f ms%s, client %s, request %s%s",
            scope["method"],
            scope["path"],
            what,
            outcome,
            state.status,
            duration_ms,
            rpc_id,
            client,
            state.request_id,
            trace,
            extra={
                "http_method": scope["method"],
                "path": scope["path"],
                "status": state.status,
                "rpc_method": state.method,
                "rpc_name": state.name,
                "rpc_id": state.rpc_id,
                "outcome": state.outcome,
                "code": state.code,
                "duration_ms": duration_ms,
                "client": client,
                "request_id": state.request_id,
                "trace_id": state.trace_id,
            },
        )
