"""One server process: the app under uvicorn, with this service's connection handling.

The console script runs it in its own process, or in each worker (``workers.py``).
"""

from __future__ import annotations

import signal
import socket
from typing import TYPE_CHECKING, Any

import uvicorn

from ..settings import ServiceSettings
from .bootstrap import started_app
from .connections import protocol_class
from .shutdown import GracefulServer, stop_signal_handler

if TYPE_CHECKING:
    from .service import Service


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
    # it found: this one, which only notes it, so a clean shutdown exits 0, quietly. Noted
    # before uvicorn listens, a signal starts the drain once the server is up.
    signal.signal(signal.SIGTERM, stop_signal_handler)
    signal.signal(signal.SIGINT, stop_signal_handler)
    server = GracefulServer(
        config,
        app.state.guard,
        settings.shutdown_grace,
        connections=protocol,
        shared_socket=settings.workers > 1,  # the supervisor stops the socket's new connections
    )
    server.run(sockets=[sock])
    protocol.head_timeouts.summarise()
