"""Graceful shutdown: requests in flight finish and deliver their answers, then listeners end.

uvicorn, on SIGTERM or SIGINT, stops accepting connections and waits for the open ones. By
itself sse-starlette (the SDK's SSE responses) ends every SSE stream at that moment, which cuts
off a tool call that is still streaming its progress and result. Here that is switched off:
the guard lets the requests in flight finish, then ends the streams that would only end when
their client leaves (listeners). When the grace period is over, or at a second signal,
the guard cuts the remaining requests short, each ending its response properly, so uvicorn
still finishes its own shutdown (the app's lifespan included) without a traceback.

Closing a listening socket resets the connections the kernel has completed but the server has
not accepted yet; a client (or proxy) that has already sent its request on one gets a reset it
cannot tell from a failure of the request. So before the socket is closed, the kernel is told
to drop new connection attempts (a socket filter on the listening socket: the client's own
retry of its SYN then meets the closed port, a refusal any proxy retries elsewhere), the
handshakes already under way are given time to complete, and the queue is emptied: those
connections are accepted, and their requests served (``connections.py``). Under ``--workers``
the supervisor does the first two steps for the socket all the workers share, before it passes
SIGTERM on (``workers.py``); each worker then empties the queue. A worker never filters the
shared socket itself: the others go on accepting from it while it alone stops.

Connections that carry no request at that moment are closed, or given a moment for one on its
way (``connections.py``), so the drain lasts as long as the longest request in flight.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import select
import signal
import socket
import struct
import time
from types import FrameType

import uvicorn
from sse_starlette.sse import AppStatus

from ..http.guard import DisconnectGuard
from .connections import GuardedH11Protocol

logger = logging.getLogger(__name__)

# Seconds the handshakes under way when new connections are refused get to complete: a round
# trip, with room to spare.
HANDSHAKE_WAIT = 0.2
_SO_ATTACH_FILTER = 26  # Linux
# A classic BPF program the kernel runs on each packet reaching the listening socket (at the
# TCP header): drop a SYN without ACK, which opens a connection; keep everything else.
_REFUSE_NEW_CONNECTIONS = (
    (0x30, 0, 0, 13),  # load the byte of TCP flags
    (0x54, 0, 0, 0x12),  # keep SYN and ACK
    (0x15, 0, 1, 0x02),  # SYN alone? then the next instruction, else the one after
    (0x06, 0, 0, 0),  # drop
    (0x06, 0, 0, 0xFFFFFFFF),  # keep
)


class GracefulServer(uvicorn.Server):
    """A uvicorn server that drains the guard's requests, for at most ``grace`` seconds."""

    def __init__(
        self,
        config: uvicorn.Config,
        guard: DisconnectGuard,
        grace: float,
        *,
        connections: type[GuardedH11Protocol],
        shared_socket: bool = False,
    ) -> None:
        super().__init__(config)
        self.guard = guard
        self.grace = grace
        self.connections = connections
        self.shared_socket = shared_socket
        AppStatus.disable_automatic_graceful_drain()  # type: ignore[no-untyped-call]

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # uvicorn installs this with signal.signal, so it runs between any two bytecodes of the
        # loop's thread, even inside the event loop's own timer bookkeeping (scheduling a timer
        # from here can corrupt it: "list changed size during iteration"). So it only sets
        # uvicorn's flags and hands the rest to the loop, through its one signal-safe call.
        second = self.should_exit
        asyncio.get_running_loop().call_soon_threadsafe(self._begin_exit, sig, second)
        super().handle_exit(sig, frame)

    def _begin_exit(self, sig: int, second: bool) -> None:
        name = signal.Signals(sig).name
        if second:
            logger.warning("second %s: cutting the requests in flight short", name)
            self.guard.cut_short()
        else:
            logger.info(
                "%s: finishing the requests in flight (at most %g s), refusing new ones",
                name,
                self.grace,
            )
            asyncio.get_running_loop().call_later(self.grace, self._grace_over)
        self.guard.drain()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if (early := signal_before_start()) is not None and not self.should_exit:
            # A stop signal came before uvicorn listened for it: drain now, as for one after.
            self.handle_exit(early, None)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await self._accept_queued_connections()
        # From here on, a connection uvicorn has not seen yet gets the drain's treatment too.
        self.connections.draining = True
        await super().shutdown(sockets)

    async def _accept_queued_connections(self) -> None:
        """Refuse new connections, then accept what is queued until the queue stays empty."""
        queue = select.poll()
        refusing = False
        for server in self.servers:
            for sock in server.sockets:
                queue.register(sock.fileno(), select.POLLIN)
                if not self.shared_socket:
                    refusing |= refuse_new_connections(sock)
        settled = time.monotonic() + (HANDSHAKE_WAIT if refusing else 0.0)
        for _ in range(500):
            if not queue.poll(0) and time.monotonic() >= settled:
                return  # nothing queued; nothing is awaited from here to the close
            await asyncio.sleep(0.001)  # asyncio's accept callback, then connection_made

    def _grace_over(self) -> None:
        logger.warning("shutdown grace period of %g s is over: cutting requests short", self.grace)
        self.guard.cut_short()


_early_signals: list[int] = []


def stop_signal_handler(signum: int, frame: FrameType | None) -> None:
    """The process's handler for SIGTERM and SIGINT outside uvicorn's: it notes the signal.

    Before uvicorn installs its own, a signal noted here starts the drain as soon as the server
    is up (``GracefulServer.startup``); after uvicorn's shutdown, which re-raises the signal to
    the handler it found, noting it is all that is left to do, and the process exits 0.
    """
    _early_signals.append(signum)


def signal_before_start() -> int | None:
    """The first stop signal noted before the server started, if any."""
    return _early_signals[0] if _early_signals else None


def refuse_new_connections(sock: socket.socket) -> bool:
    """Have the kernel drop connection attempts to the listening ``sock``; False if it cannot."""
    program = b"".join(struct.pack("HBBI", *step) for step in _REFUSE_NEW_CONNECTIONS)
    steps = ctypes.create_string_buffer(program)
    fprog = struct.pack("HL", len(_REFUSE_NEW_CONNECTIONS), ctypes.addressof(steps))
    try:
        sock.setsockopt(socket.SOL_SOCKET, _SO_ATTACH_FILTER, fprog)
    except OSError as exc:
        logger.debug("cannot refuse new connections before closing the socket: %s", exc)
        return False
    return True
