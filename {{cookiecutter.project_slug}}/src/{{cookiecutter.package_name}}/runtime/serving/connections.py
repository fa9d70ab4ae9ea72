"""The HTTP connection: no Nagle stall, and a deadline for every request head.

Two things uvicorn leaves to whoever creates its sockets and protocols:

* ``TCP_NODELAY``. asyncio sets it only on connections whose listening socket says
  ``IPPROTO_TCP``; a socket made by ``socket.create_server`` (or handed over by a supervisor)
  says 0. Without it a small response waits for the client's delayed ACK: about 40 ms on every
  sequential call over a kept-alive connection. Set here, per connection, it holds however the
  socket was made.
* A deadline for the request head. uvicorn closes a connection idle *between* requests after
  its keep-alive timeout, but waits forever for a client that connects and sends nothing, or
  trickles a head a byte at a time. Each such connection costs a file descriptor and, under
  uvicorn's own connection-counting limit, a place in the queue: a few hundred of them lock
  everyone else out. Here a connection that has not completed a request head within
  ``header_timeout`` seconds of connecting (or of its previous response) is closed, and the
  concurrency limit counts requests, not connections (see ``limits.py``).

And two things about shutdown. uvicorn closes every connection with no request in progress,
including one it accepted a moment ago whose request is still on its way: a reverse proxy that
has sent a POST on such a connection cannot retry it and answers 502. Here a connection that
has received no complete head gets what is left of ``SHUTDOWN_REQUEST_WINDOW`` seconds from its
accept to deliver its request, which is then served and the connection closed after it; one
older than that, idle after a response or stalled in its head, is closed at once. And uvicorn
tells only the connections it knows of when the shutdown begins: one whose accept was still
under way is told as it starts (``draining``), rather than waiting out ``header_timeout``. So
the drain lasts as long as the longest request in flight, or the short window, and no longer.

Closed connections are counted, not logged one by one: a flood of them would otherwise flood
the log. One INFO line per minute at most sums them up.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import socket
from typing import ClassVar, Final

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

logger = logging.getLogger(__name__)

SUMMARY_INTERVAL: Final = 60.0
# Seconds from its accept in which a connection with no complete request head yet may still
# deliver one during a graceful shutdown: a proxy sends it within milliseconds of connecting.
SHUTDOWN_REQUEST_WINDOW: Final = 1.0
_TIMED_OUT: Final = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 33\r\nconnection: close\r\n\r\nRequest head not received in time"
)


class HeadTimeouts:
    """How many connections were closed for want of a request head, summed up once a minute."""

    def __init__(self, header_timeout: float) -> None:
        self.header_timeout = header_timeout
        self.silent = 0
        self.partial = 0
        self._summary: asyncio.TimerHandle | None = None

    def count(self, *, partial: bool) -> None:
        if partial:
            self.partial += 1
        else:
            self.silent += 1
        if self._summary is None:
            loop = asyncio.get_running_loop()
            self._summary = loop.call_later(SUMMARY_INTERVAL, self.summarise)

    def summarise(self) -> None:
        """Log what was closed since the last summary (also called once at shutdown)."""
        if self._summary is not None:
            self._summary.cancel()
            self._summary = None
        if self.silent or self.partial:
            logger.info(
                "connections closed without a complete request head within %g s: "
                "%d sent nothing, %d sent part of a head",
                self.header_timeout,
                self.silent,
                self.partial,
            )
            self.silent = self.partial = 0


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with ``TCP_NODELAY`` and a request-head deadline.

    Pass ``protocol_class(header_timeout)`` to ``uvicorn.Config(http=...)``.
    """

    # Set per server process by ``protocol_class``, and ``draining`` once its shutdown begins.
    header_timeout: ClassVar[float]
    head_timeouts: ClassVar[HeadTimeouts]
    draining: ClassVar[bool] = False
    head_deadline: asyncio.TimerHandle | None = None
    # Set when a shutdown finds the connection with nothing received: it serves one last request.
    last_request_window: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._await_head()
        if self.draining:
            self.shutdown()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.last_request_window is not None and self.cycle is not None:
            self.cycle.keep_alive = False  # answered with `connection: close`, then closed
        if self.head_deadline is not None and self.conn.their_state is not h11.IDLE:
            self.head_deadline.cancel()
            self.head_deadline = None

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # A pipelined request may already be under way; otherwise the next head is awaited.
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.head_deadline is not None:
            self.head_deadline.cancel()
            self.head_deadline = None
        if self.last_request_window is not None:
            self.last_request_window.cancel()
        super().connection_lost(exc)

    def shutdown(self) -> None:
        """Begin a graceful shutdown on this connection (by the server, or as it starts)."""
        if self.last_request_window is not None:
            return  # told already
        if self.cycle is None and not self.transport.is_closing() and self.head_deadline:
            # Accepted, no complete head yet. Just now? Its request may be on the wire: wait.
            accepted = self.head_deadline.when() - self.header_timeout
            left = accepted + SHUTDOWN_REQUEST_WINDOW - self.loop.time()
            if left > 0:
                self.last_request_window = self.loop.call_later(
                    left, self._last_request_window_over
                )
                return
        super().shutdown()

    def _last_request_window_over(self) -> None:
        if self.cycle is None:
            super().shutdown()  # still nothing (or part of a head): close it

    def _await_head(self) -> None:
        if self.head_deadline is not None:
            self.head_deadline.cancel()
        self.head_deadline = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _head_timed_out(self) -> None:
        self.head_deadline = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        partial = bool(self.conn.trailing_data[0])
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "closing connection from %s: no complete request head within %g s (%s)",
                f"{self.client[0]}:{self.client[1]}" if self.client else "unknown",
                self.header_timeout,
                "partial head" if partial else "nothing received",
            )
        self.head_timeouts.count(partial=partial)
        if partial:
            self.transport.write(_TIMED_OUT)
        self.transport.close()


def protocol_class(header_timeout: float) -> type[GuardedH11Protocol]:
    """The protocol for one server process, with its deadline and its own count of timeouts."""
    if not header_timeout > 0:
        raise ValueError(f"header_timeout must be a positive number, got {header_timeout}")
    attributes = {"header_timeout": header_timeout, "head_timeouts": HeadTimeouts(header_timeout)}
    return type(GuardedH11Protocol.__name__, (GuardedH11Protocol,), attributes)


def raise_open_file_limit() -> int:
    """Raise this process's soft limit on open files to its hard limit; return the limit.

    Every connection is a file descriptor. The usual soft limit (1,024) is a few hundred idle
    connections short of refusing new ones, while the hard limit is typically far higher.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard
