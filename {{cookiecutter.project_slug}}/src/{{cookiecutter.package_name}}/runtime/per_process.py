"""What a service opens once per process for its tools, resources and prompts to share.

``PerProcess(open_shared)`` wraps the team's ``open_shared(settings)``, an async context manager
(``shared.py``, a level up). The app's lifespan enters it once per process, after the settings
are read and before the first request, and leaves it after the drain, once no request is in
flight; a tool calls the ``PerProcess`` object for what it opened. The same on both SDK lines,
on every worker and replica (each opens its own), when the app is mounted in a larger one, and
over stdio.

Not the SDK's ``lifespan=``: on the 1.x line a stateless server enters and leaves that on every
request, so a connection pool opened there would be opened and closed per call.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar
from typing import Any, Generic, TypeVar

from starlette.types import ASGIApp, Receive, Scope, Send

logger = logging.getLogger(__name__)

SettingsT = TypeVar("SettingsT")
T = TypeVar("T")


class PerProcess(Generic[SettingsT, T]):
    """One value per process, opened from the settings; call the object to get it."""

    def __init__(self, open_: Callable[[SettingsT], AbstractAsyncContextManager[T]]) -> None:
        self._open = open_
        self._name = getattr(open_, "__qualname__", repr(open_))
        self._current: ContextVar[T] = ContextVar(self._name)

    def __call__(self) -> T:
        """What this process opened, in a tool, resource or prompt (or code they call)."""
        try:
            return self._current.get()
        except LookupError:
            raise LookupError(
                f"{self._name} is not open here: it is opened by the running service, or "
                "in a test by `async with <it>.opened(settings)`"
            ) from None

    @asynccontextmanager
    async def opened(self, settings: SettingsT) -> AsyncIterator[Callable[[], object]]:
        """Open it for the length of the block, current there and in the tasks started there.

        Yields ``bind``, which makes it current in another context: an HTTP app's lifespan
        does not reach its requests' contexts, so the app binds it for each (``BindPerRequest``).
        """
        async with self._open(settings) as value:
            logger.info("%s: opened for this process", self._name)
            token = self._current.set(value)
            try:
                yield lambda: self._current.set(value)
            finally:
                self._current.reset(token)
                logger.info("%s: closing", self._name)


class BindPerRequest:
    """Pure ASGI middleware: what the app opened is current for each request it serves.

    ``bind`` is set by the app's lifespan once the value is open; until then, and without a
    ``PerProcess``, requests pass through untouched.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.bind: Callable[[], Any] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.bind is not None:
            # Each request is its own task, with its own copy of the context: nothing to undo.
            self.bind()
        await self.app(scope, receive, send)
