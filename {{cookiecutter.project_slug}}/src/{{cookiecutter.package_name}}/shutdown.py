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
cannot tell from a failure of the request. Before the socket is closed, the queue is emptied:
those connections are accepted, and their requests served (``connections.py``).
"""

from __future__ import annotations

import asyncio
import logging
import select
import signal
import socket
from types import FrameType

import uvicorn
from sse_starlette.sse import AppStatus

from .guard import DisconnectGuard

logger = logging.getLogger(__name__)


class GracefulServer(uvicorn.Server):
    """A uvicorn server that drains the guard's requests, for at most ``grace`` seconds."""

    def __init__(self, config: uvicorn.Config, guard: DisconnectGuard, grace: float) -> None:
        super().__init__(config)
        self.guard = guard
        self.grace = grace
        AppStatus.disable_automatic_graceful_drain()  # type: ignore[no-untyped-call]

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # uvicorn runs this signal handler on the event loop's thread.
        loop = asyncio.get_running_loop()
        name = signal.Signals(sig).name
        if self.should_exit:
            logger.warning("second %s: cutting the requests in flight short", name)
            loop.call_soon(self.guard.cut_short)
        else:
            logger.info(
                "%s: finishing the requests in flight (at most %g s), refusing new ones",
                name,
                self.grace,
            )
            loop.call_later(self.grace, self._grace_over)
        super().handle_exit(sig, frame)
        loop.call_soon(self.guard.drain)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await self._accept_queued_connections()
        await super().shutdown(sockets)

    async def _accept_queued_connections(self) -> None:
        """Let asyncio accept what is queued, until the queue is empty (at most about 0.5 s)."""
        queue = select.poll()
        for server in self.servers:
            for sock in server.sockets:
                queue.register(sock.fileno(), select.POLLIN)
        for _ in range(500):
            if not queue.poll(0):
                return  # nothing queued; nothing is awaited from here to the close
            await asyncio.sleep(0.001)  # asyncio's accept callback, then connection_made

    def _grace_over(self) -> None:
        logger.warning("shutdown grace period of %g s is over: cutting requests short", self.grace)
        self.guard.cut_short()
