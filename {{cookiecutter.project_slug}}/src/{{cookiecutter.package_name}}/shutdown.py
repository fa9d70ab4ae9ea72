"""Graceful shutdown: requests in flight finish and deliver their answers, then listeners end.

uvicorn, on SIGTERM or SIGINT, stops accepting connections and waits for the open ones. By
itself sse-starlette (the SDK's SSE responses) ends every SSE stream at that moment, which cuts
off a tool call that is still streaming its progress and result. Here that is switched off:
the guard lets the requests in flight finish, then ends the streams that would only end when
their client leaves (listeners). When the grace period is over, or at a second signal,
the guard cuts the remaining requests short, each ending its response properly, so uvicorn
still finishes its own shutdown (the app's lifespan included) without a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import signal
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

    def _grace_over(self) -> None:
        logger.warning("shutdown grace period of %g s is over: cutting requests short", self.grace)
        self.guard.cut_short()
