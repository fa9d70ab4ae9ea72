"""Authentication: none. ``/mcp`` answers anyone who can reach it.

Bind to localhost (the default) or put the service behind a proxy that authenticates. To add
authentication later, bake the template again with another ``auth`` answer and take that
project's ``runtime/auth.py``: the rest of the runtime calls only what this module defines.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp

from .settings import ServiceSettings


class AuthSettings(ServiceSettings):
    """No settings of its own: without authentication there is nothing to configure."""


def protect(app: ASGIApp, settings: AuthSettings) -> ASGIApp:
    """The app as it is: every request is let through."""
    return app


def server_auth(settings: AuthSettings) -> dict[str, Any]:
    """No authentication options for the SDK's server."""
    return {}
