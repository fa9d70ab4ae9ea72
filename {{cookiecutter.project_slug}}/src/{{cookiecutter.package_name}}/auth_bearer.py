"""Static bearer tokens on everything but ``/healthz``: the simplest authentication that works.

For a service that a few known clients call with a shared secret (``AUTH_TOKENS``). A pure
ASGI middleware in front of the disconnect guard, so a request without a valid token gets 401
before its body is read. Tokens are compared as SHA-256 digests with ``hmac.compare_digest``,
against every configured token, so the time an answer takes says nothing about the tokens.
No token, right or wrong, is ever logged.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterable
from typing import Final

from pydantic import SecretStr
from starlette.types import ASGIApp, Receive, Scope, Send

logger = logging.getLogger(__name__)

_BODY: Final = b'{"error": "invalid_token", "error_description": "Bearer token required"}'


class BearerAuth:
    """Let through HTTP requests that carry one of ``tokens``; answer the rest with 401."""

    def __init__(self, app: ASGIApp, *, tokens: Iterable[SecretStr]) -> None:
        self.app = app
        self._digests = tuple(_digest(token.get_secret_value()) for token in tokens)
        if not self._digests:
            raise ValueError("BearerAuth needs at least one token")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        presented = _bearer_token(scope)
        if presented is not None and self._accepts(presented):
            await self.app(scope, receive, send)
            return
        reason = "no bearer token" if presented is None else "a wrong bearer token"
        client = scope.get("client")
        logger.info(
            "401 for %s %s from %s: %s",
            scope["method"],
            scope["path"],
            f"{client[0]}:{client[1]}" if client else "unknown client",
            reason,
        )
        challenge = b'Bearer error="invalid_token"' if presented is not None else b"Bearer"
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(_BODY)).encode()),
                    (b"www-authenticate", challenge),
                ],
            }
        )
        await send({"type": "http.response.body", "body": _BODY})

    def _accepts(self, token: str) -> bool:
        presented = _digest(token)
        matched = False
        for digest in self._digests:  # no early exit: every check takes the same time
            matched |= hmac.compare_digest(presented, digest)
        return matched


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _bearer_token(scope: Scope) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive)."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            header: str = value.decode("latin-1")
            scheme, _, token = header.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return None
    return None
