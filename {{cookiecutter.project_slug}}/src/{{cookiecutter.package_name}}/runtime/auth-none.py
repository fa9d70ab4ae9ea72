"""Authentication: none. ``/mcp`` answers anyone who can reach it.

Bind to localhost (the default) or put the service behind a proxy that authenticates. To add
authentication later, change the ``auth`` answer in ``.cruft.json`` and run ``cruft update``:
besides this module, the settings' documentation, the Kubernetes manifests and some tests
differ between the answers.
"""

from __future__ import annotations

from typing import Any, Final

from starlette.types import ASGIApp

from .settings import ServiceSettings

# Whether the SDK's server checks tokens itself (the HTTP app then keeps the SDK's own app, whose
# middleware does it, in front of /mcp): no, nothing checks tokens.
SDK_CHECKS_TOKENS: Final = False


class AuthSettings(ServiceSettings):
    """No settings of its own: without authentication there is nothing to configure."""


def protect(app: ASGIApp, settings: AuthSettings) -> ASGIApp:
    """The app as it is: every request is let through."""
    return app


def server_auth(settings: AuthSettings) -> dict[str, Any]:
    """No authentication options for the SDK's server."""
    return {}
