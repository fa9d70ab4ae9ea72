"""What the service opens once per process and its tools share: the team's file.

A tool, resource or prompt calls ``shared()`` for this process's ``Shared``: the service's
settings, and the clients and pools it opens once, at startup. ``open_shared`` opens them after
the settings are read and before the first request, and closes them after the drain, once no
request is in flight; the same on every worker and replica (each opens its own), when the app is
mounted in a larger one, and over stdio. Add a field to ``Shared`` and open it here.

In a test, ``async with shared.opened(settings):`` opens them for the block
(``tests/test_tools.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from . import SERVER_NAME, __version__
from .runtime.per_process import PerProcess
from .settings import Settings


@dataclass(frozen=True, slots=True)
class Shared:
    """The settings and the clients a process's tools share."""

    settings: Settings
    # One client for every call to PyPI: it keeps connections open between calls.
    pypi: httpx.AsyncClient


@asynccontextmanager
async def open_shared(settings: Settings) -> AsyncIterator[Shared]:
    """Open what the tools share; it is closed when the block ends."""
    async with httpx.AsyncClient(
        base_url=str(settings.pypi_url),
        timeout=settings.pypi_timeout,
        headers={"user-agent": f"{SERVER_NAME}/{__version__}"},
    ) as pypi:
        yield Shared(settings=settings, pypi=pypi)


shared = PerProcess(open_shared)
"""``shared()``: this process's ``Shared``, in a tool, resource or prompt."""
