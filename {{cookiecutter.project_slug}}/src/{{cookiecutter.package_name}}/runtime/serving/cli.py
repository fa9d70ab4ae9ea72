"""The command, ``{{ cookiecutter.project_slug }}``:
the team's service under uvicorn or on stdio. ``__main__.py`` hands the team's ``Service``
(``app.py``) to ``run``.

Command-line flags override the environment variables of ``settings.py``. The socket is bound
before anything is logged, so the first line states where the service really listens (with
``--port 0``, the port the system picked).
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, get_args

from ..about import SERVER_NAME, __version__
from ..sdk import SDK_VERSION
from ..settings import ENV_PREFIX, LogLevel, ServiceSettings, Transport
from .bootstrap import StartupFailed, start
from .connections import raise_open_file_limit
from .server import serve
from .stdio import serve_stdio
from .workers import Supervisor

if TYPE_CHECKING:
    from .service import Service

logger = logging.getLogger(__name__)


def parse_args(argv: Sequence[str] | None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        prog=SERVER_NAME,
        description=f"Serve {SERVER_NAME} over stateless streamable HTTP at /mcp or over stdio.",
        epilog=f"Every setting can also be given as an {ENV_PREFIX}* environment variable.",
    )
    parser.add_argument("--host", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="TCP port; 0 picks a free one (default 8000)")
    parser.add_argument("--log-level", choices=get_args(LogLevel), help="default info")
    parser.add_argument("--workers", type=int, help="server processes sharing the port (default 1)")
    parser.add_argument(
        "--transport",
        choices=get_args(Transport),
        help="http (default) or stdio, for clients that start the server themselves",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    args = parser.parse_args(argv)
    return {name: value for name, value in vars(args).items() if value is not None}


def bind(settings: ServiceSettings) -> socket.socket:
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    return socket.create_server((settings.host, settings.port), family=family, backlog=2048)


def run(service: Service[Any], argv: Sequence[str] | None = None) -> int:
    """Serve ``service`` as the command line and the settings say; the exit code."""
    overrides = parse_args(argv)
    try:
        settings = start(service, **overrides)
    except StartupFailed as failed:
        print(failed, file=sys.stderr)
        return 2
    if settings.transport == "stdio":
        return serve_stdio(service, settings)
    try:
        sock = bind(settings)
    except OSError as exc:
        address = f"{settings.host}:{settings.port}"
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        print(f"{SERVER_NAME}: error: cannot listen on {address}: {reason}", file=sys.stderr)
        return 1
    host, port = sock.getsockname()[:2]
    shown_host = f"[{host}]" if ":" in host else host
    logger.info(
        "%s %s listening on http://%s:%d/mcp (MCP SDK %s, stateless)",
        SERVER_NAME,
        __version__,
        shown_host,
        port,
        SDK_VERSION,
    )
    logger.info(
        "up to %d open files per process; a request head must arrive within %g s",
        raise_open_file_limit(),
        settings.header_timeout,
    )
    if settings.workers > 1:
        return Supervisor(service, settings, sock).run()
    serve(service, settings, sock)
    return 0
