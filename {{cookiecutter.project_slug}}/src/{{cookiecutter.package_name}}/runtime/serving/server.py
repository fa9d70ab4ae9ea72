"""One server process: the app under uvicorn, with this service's connection handling.

The console script runs it in its own process, or in each worker (``workers.py``).
"""

from __future__ import annotations

import logging
import signal
import socket
from typing import TYPE_CHECKING, Any

import uvicorn

from ..settings import ServiceSettings
from .bootstrap import started_app
from .connections import protocol_class
from .shutdown import GracefulServer

if TYPE_CHECKING:
    from .service import Service

logger = logging.getLogger(__name__)


def serve(service: Service[Any], settings: ServiceSettings, sock: socket.socket) -> None:
    """Serve on ``sock`` in this process until SIGTERM or SIGINT, then drain (``shutdown.py``)."""
    app = started_app(service, settings)
    protocol = protocol_class(settings.header_timeout)
    config = uvicorn.Config(
        app,
        log_config=None,
        log_level=settings.log_level,
        access_log=False,  # the app writes its own access line (access.py)
        # h11, whose parser bounds a head that is still arriving, with TCP_NODELAY and a
        # deadline for the head (connections.py). `uvicorn pkg.app:app` users pass what flags
        # can (README, "Running").
        http=protocol,
        h11_max_incomplete_event_size=settings.max_header_bytes,
        timeout_keep_alive=settings.keep_alive_timeout,  # type: ignore[arg-type]
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then re-raises the signal to the handler
    # it found. Finding these, it re-raises into a no-op: a clean shutdown exits 0, quietly.
    signal.signal(signal.SIGTERM, _after_shutdown)
    signal.signal(signal.SIGINT, _after_shutdown)
    shared = settings.workers > 1  # the other workers go on accepting from it
    server = GracefulServer(config, app.state.guard, settings.shutdown_grace, shared_socket=shared)
    server.run(sockets=[sock])
    protocol.head_timeouts.summarise()


def _after_shutdown(signum: int, frame: object) -> None:
    logger.debug("stopped by %s", signal.Signals(signum).name)
