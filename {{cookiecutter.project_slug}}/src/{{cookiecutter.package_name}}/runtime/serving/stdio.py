"""Serving over stdio: how desktop and IDE clients run a local MCP server.

The client starts the command with ``--transport stdio`` as its child process, writes requests
to its stdin and reads answers from its stdout, so stdout carries protocol messages and nothing
else: every log line goes to stderr, which clients show as the server's log. The same tools as
over HTTP, with what they share opened once for the run; the HTTP-only settings (address,
limits, auth) do not apply. The server ends, exit
code 0, when the client closes stdin or sends SIGTERM or SIGINT.
"""

from __future__ import annotations

import logging
import os
import signal
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import anyio

from ..about import SERVER_NAME, __version__
from ..registry import register_extras
from ..sdk import SDK_VERSION, Server, run_stdio
from ..settings import ServiceSettings
from ..tracing import flush, start_tracing

if TYPE_CHECKING:
    from .service import Service

logger = logging.getLogger(__name__)


def serve_stdio(service: Service[Any], settings: ServiceSettings) -> int:
    """Serve MCP on stdin/stdout until the client leaves; the exit code for the command."""
    logger.info(
        "%s %s serving MCP on stdin/stdout (MCP SDK %s)", SERVER_NAME, __version__, SDK_VERSION
    )
    start_tracing(settings)  # checked by the command already (bootstrap.start)
    server = service.create_server(settings)
    register_extras(server)
    signal.signal(signal.SIGTERM, _exit_at_once)
    signal.signal(signal.SIGINT, _exit_at_once)
    anyio.run(_run, server, settings)
    logger.info("stdin closed, stopping")
    return 0


async def _run(server: Server, settings: ServiceSettings) -> None:
    async with server.shared.opened(settings) if server.shared else nullcontext():
        await run_stdio(server)


def _exit_at_once(signum: int, frame: object) -> None:
    # The SDK reads stdin in a worker thread that no cancellation interrupts, so an orderly
    # shutdown would wait for input that never comes. A client sends SIGTERM only after closing
    # stdin and waiting, so it expects no more answers: exit here, quietly and with 0.
    logger.info("stopped by %s", signal.Signals(signum).name)
    flush()  # the spans still waiting, if traces are on: os._exit runs no atexit hook
    logging.shutdown()
    os._exit(0)
