"""Authentication: an OAuth 2.1 resource server.

``/mcp`` accepts JWT access tokens from one authorization server.

This is the role the MCP authorization spec gives an MCP server. The SDK does the protocol
part: it answers 401 with ``WWW-Authenticate: Bearer ... resource_metadata=...`` to requests
without a valid token, 403 ``insufficient_scope`` when a required scope is missing, and serves
the protected-resource metadata (RFC 9728) at ``/.well-known/oauth-protected-resource/mcp``.
This module gives it what it needs from the settings: ``auth_settings`` and a token verifier.

Tokens are verified with PyJWT against the authorization server's published keys (JWKS):
signature with an asymmetric algorithm only (so neither ``alg: none`` nor an HMAC token signed
with a public key passes), expiry, issuer and audience (RFC 8707: this server's own URL, so a
token issued for another service is refused). Nothing here logs a token.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Final

import anyio.to_thread
import jwt
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings as SDKAuthSettings
from pydantic import Field, ValidationInfo, field_validator
from starlette.types import ASGIApp

from .settings import CommaList, ServiceSettings, split_commas

# Whether the SDK's server checks tokens itself (the HTTP app then keeps the SDK's own app, whose
# middleware does it, in front of /mcp): yes, with the verifier ``server_auth`` gives it.
SDK_CHECKS_TOKENS: Final = True

logger = logging.getLogger(__name__)

# Asymmetric algorithms only: the keys come from a public JWKS.
ALGORITHMS: Final = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
REQUIRED_CLAIMS: Final = ("exp", "iss", "aud")
JWKS_TIMEOUT: Final = 10.0
URL_RE: Final = re.compile(r"https?://[^\s/?#]+[^\s]*")


class AuthSettings(ServiceSettings):
    """The template's settings plus the authorization server's and this resource's."""

    # Required: the empty defaults fail validation, with a line that names the variable.
    auth_issuer: str = Field(
        default="",
        validate_default=True,
        description="The authorization server: tokens' exact iss claim.",
    )
    auth_jwks_url: str = Field(
        default="",
        validate_default=True,
        description="Where the authorization server publishes its keys.",
    )
    auth_resource_url: str = Field(
        default="",
        validate_default=True,
        description="This server's public /mcp URL: the resource in its OAuth metadata.",
    )
    auth_audience: str = Field(
        default="",
        description="The aud claim tokens must carry; empty means auth_resource_url.",
    )
    auth_required_scopes: CommaList = Field(
        default=(),
        description="Scopes every token must grant, comma-separated; otherwise 403.",
    )

    @field_validator("auth_required_scopes", mode="before")
    @classmethod
    def _split_scopes(cls, value: object) -> object:
        return split_commas(value)

    @field_validator("auth_issuer", "auth_jwks_url", "auth_resource_url")
    @classmethod
    def _check_url(cls, url: str, info: ValidationInfo) -> str:
        if not url and info.data.get("transport") == "stdio":
            return url  # over stdio the client started this process: no HTTP, no OAuth
        if not url:
            raise ValueError("required but not set")
        if not URL_RE.fullmatch(url):
            raise ValueError("must be an http:// or https:// URL")
        return url

    @property
    def expected_audience(self) -> str:
        """The audience tokens are checked against (RFC 8707: this server's own URL)."""
        return self.auth_audience or self.auth_resource_url


def protect(app: ASGIApp, settings: AuthSettings) -> ASGIApp:
    """The app as it is: the SDK checks tokens on ``/mcp`` itself (``server_auth``)."""
    return app


def server_auth(settings: AuthSettings) -> dict[str, Any]:
    """The SDK server's options for checking tokens; none over stdio, where there is no HTTP."""
    if settings.transport == "stdio":
        return {}
    return {"auth": auth_settings(settings), "token_verifier": JWTVerifier(settings)}


def auth_settings(settings: AuthSettings) -> SDKAuthSettings:
    """The SDK's resource-server settings: who issues tokens, who we are, which scopes."""
    # model_validate rather than keywords: validate_token_resource is unknown to older SDKs,
    # which ignore it. The verifier below checks the audience itself, so the SDK need not.
    return SDKAuthSettings.model_validate(
        {
            "issuer_url": settings.auth_issuer,
            "resource_server_url": settings.auth_resource_url,
            "required_scopes": list(settings.auth_required_scopes) or None,
            "validate_token_resource": False,
        }
    )


class JWTVerifier:
    """The SDK's ``TokenVerifier``: a valid token becomes an ``AccessToken``, anything else None."""

    def __init__(self, settings: AuthSettings) -> None:
        self.issuer = settings.auth_issuer
        self.audience = settings.expected_audience
        self.jwks_url = settings.auth_jwks_url
        # Caches the key set and refetches it (rate-limited) when a token names an unknown key.
        self._keys = jwt.PyJWKClient(self.jwks_url, timeout=JWKS_TIMEOUT)

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            # PyJWKClient fetches the key set with blocking I/O: keep it off the event loop.
            claims = await anyio.to_thread.run_sync(self._decode, token)
        except jwt.PyJWKClientConnectionError as exc:
            logger.warning("cannot fetch the signing keys from %s: %s", self.jwks_url, exc)
            return None
        except jwt.PyJWTError as exc:
            logger.info("rejected a bearer token: %s: %s", type(exc).__name__, exc)
            return None
        return AccessToken(
            token=token,
            client_id=str(claims.get("client_id") or claims.get("azp") or claims.get("sub", "")),
            scopes=_scopes(claims),
            expires_at=int(claims["exp"]),
            resource=self.audience,
        )

    def _decode(self, token: str) -> dict[str, Any]:
        key = self._keys.get_signing_key_from_jwt(token)
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=list(ALGORITHMS),
            audience=self.audience,
            issuer=self.issuer,
            options={"require": list(REQUIRED_CLAIMS)},
        )
        return claims


def _scopes(claims: dict[str, Any]) -> list[str]:
    """Scopes from ``scope`` (RFC 9068: space-separated) or ``scp`` (a list, some providers)."""
    raw = claims.get("scope", claims.get("scp", ""))
    if isinstance(raw, str):
        return raw.split()
    if isinstance(raw, list):
        return [str(scope) for scope in raw]
    return []
