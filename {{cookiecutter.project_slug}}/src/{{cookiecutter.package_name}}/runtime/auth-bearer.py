"""Authentication: static bearer tokens on everything but ``/healthz``.

The simplest authentication that works.
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
import re
from collections.abc import Iterable
from typing import Annotated, Any, ClassVar, Final

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import NoDecode
from starlette.types import ASGIApp, Receive, Scope, Send

from .settings import ServiceSettings, split_commas

# Whether the SDK's server checks tokens itself (the HTTP app then keeps the SDK's own app, whose
# middleware does it, in front of /mcp): no, ``protect`` checks them in front of the guard.
SDK_CHECKS_TOKENS: Final = False

logger = logging.getLogger(__name__)

# RFC 6750 token characters: anything else could never arrive in an Authorization header.
TOKEN_RE: Final = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
MIN_TOKEN_LENGTH: Final = 16

_BODY: Final = b'{"error": "invalid_token", "error_description": "Bearer token required"}'


class AuthSettings(ServiceSettings):
    """The template's settings plus the tokens ``/mcp`` accepts."""

    SECRET_FIELDS: ClassVar[frozenset[str]] = ServiceSettings.SECRET_FIELDS | {"auth_tokens"}

    auth_tokens: Annotated[tuple[SecretStr, ...], NoDecode] = Field(
        default=(),
        validate_default=True,
        description="Bearer tokens accepted on /mcp, comma-separated; required, never logged.",
    )

    @field_validator("auth_tokens", mode="before")
    @classmethod
    def _split_tokens(cls, value: object) -> object:
        return split_commas(value)

    @field_validator("auth_tokens")
    @classmethod
    def _check_tokens(
        cls, tokens: tuple[SecretStr, ...], info: ValidationInfo
    ) -> tuple[SecretStr, ...]:
        # Messages say what is wrong, never which token: the error line must not leak one.
        if not tokens and info.data.get("transport") == "stdio":
            return tokens  # over stdio the client started this process: no HTTP, no tokens
        if not tokens:
            raise ValueError("required but not set: give one or more comma-separated tokens")
        for token in tokens:
            value = token.get_secret_value()
            if len(value) < MIN_TOKEN_LENGTH:
                raise ValueError(f"every token needs at least {MIN_TOKEN_LENGTH} characters")
            if not TOKEN_RE.fullmatch(value):
                raise ValueError("tokens may only contain letters, digits and -._~+/ (then =)")
        return tokens


def protect(app: ASGIApp, settings: AuthSettings) -> ASGIApp:
    """``app`` behind the token check, which runs before the guard reads a body."""
    return BearerAuth(app, tokens=settings.auth_tokens)


def server_auth(settings: AuthSettings) -> dict[str, Any]:
    """No authentication options for the SDK's server: the tokens are checked in front of it."""
    return {}


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
