"""Serving over stdio: how desktop and IDE clients run a local MCP server.

The client starts the command with ``--transport stdio`` as its child process, writes requests
to its stdin and reads answers from its stdout, so stdout carries protocol messages and nothing
else: every log line goes to stderr, which clients show as the server's log. The same tools as
over HTTP; the HTTP-only settings (address, limits, auth) do not apply. The server ends, exit
code 0, when the client closes stdin or sends SIGTERM or SIGINT.
"""

from __future__ import annotations

import logging
import signal

import anyio

from . import SERVER_NAME, __version__
from .logs import configure_logging
from .sdk import SDK_VERSION, create_server, run_stdio
from .settings import Settings
from .tools import register_tools

logger = logging.getLogger(__name__)


def serve_stdio(settings: Settings) -> int:
    """Serve MCP on stdin/stdout until the client leaves; the exit code for ``main()``."""
    server = create_server(settings)
    register_tools(server)
    # After the server is created: the SDK installs log handlers of its own when it is.
    configure_logging(settings.log_level)
    logger.info(
        "%s %s serving MCP on stdin/stdout (MCP SDK %s)", SERVER_NAME, __version__, SDK_VERSION
    )
    # A client that stops the server with SIGTERM gets the same quiet exit as one that closes
    # stdin, and Ctrl-C in a terminal no traceback.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        anyio.run(run_stdio, server)
    except KeyboardInterrupt:
        logger.info("stopped by a signal")
    else:
        logger.info("stdin closed, stopping")
    return 0
