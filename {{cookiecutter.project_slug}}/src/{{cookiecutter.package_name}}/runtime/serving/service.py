"""The team's service as the runtime serves it, and the ASGI app uvicorn is pointed at.

The team's ``app.py`` builds one ``Service`` from its settings reader and its server factory, and
every entry point hands that to the runtime: the console script and ``python -m``
(``__main__.py``), uvicorn's target (``app.app``, a ``ServiceApp``), the workers and stdio. So
no module of the runtime imports one of the team's: the arrows run from the team's modules
down into the machinery.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from ..auth import AuthSettings
from ..http.app import build_http_app
from ..sdk import Server
from .bootstrap import StartupFailed, start, started_app

SettingsT = TypeVar("SettingsT", bound=AuthSettings)


@dataclass(frozen=True, slots=True)
class Service(Generic[SettingsT]):
    """How the service's settings are read and its MCP server is built: all the runtime needs.

    Both are plain module-level functions, so a ``Service`` travels to ``--workers`` processes.
    """

    read_settings: Callable[..., SettingsT]
    """The settings from the environment and ``.env``, with keyword overrides (CLI flags)."""
    create_server: Callable[[SettingsT], Server]
    """The SDK's server with the service's tools, resources and prompts."""

    def create_app(self, settings: SettingsT | None = None) -> Starlette:
        """The HTTP app: a new server behind the request path. Its lifespan can run once."""
        settings = self.read_settings() if settings is None else settings
        return build_http_app(self.create_server(settings), settings)

    def asgi(self) -> ServiceApp:
        """What ``uvicorn <package>.app:app`` serves: see ``ServiceApp``."""
        return ServiceApp(self)


class ServiceApp:
    """Pure ASGI app: the service, built from the environment when its server starts it.

    Built at the first event (the lifespan's start, under uvicorn), not on import, so importing
    the team's ``app`` reads no environment. A setting that is wrong fails the start: uvicorn
    logs the one line that names it, and exits.
    """

    def __init__(self, service: Service[Any]) -> None:
        self.service = service
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.app is None:
            try:
                self.app = started_app(self.service, start(self.service))
            except StartupFailed as failed:
                if scope["type"] != "lifespan":
                    raise
                await receive()  # lifespan.startup
                await send({"type": "lifespan.startup.failed", "message": str(failed)})
                return
        await self.app(scope, receive, send)
