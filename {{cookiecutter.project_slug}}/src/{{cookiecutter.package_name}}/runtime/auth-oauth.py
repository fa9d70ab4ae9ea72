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

Keys that cannot be had are the server's fault, not the client's. When the keys a token needs
are due a fetch that fails (the JWKS unreachable, failing or malformed), ``protect`` turns the
SDK's 401, which would send the client to re-authenticate, into a 503 with ``Retry-After`` and
a JSON-RPC error. The fetch is then tried again at most once every ``KEYS_RETRY`` seconds, by
one request, and every other request is answered at once rather than waiting out a timeout.
The log gets one WARNING when the outage starts and one INFO line when it ends.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
import urllib.error
from contextvars import ContextVar
from typing import Any, Final

import anyio.to_thread
import jwt
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings as SDKAuthSettings
from pydantic import Field, ValidationInfo, field_validator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .jsonrpc import error_body
from .requests import Outcome, current
from .settings import CommaList, ServiceSettings, split_commas

# Whether the SDK's server checks tokens itself (the HTTP app then keeps the SDK's own app, whose
# middleware does it, in front of /mcp): yes, with the verifier ``server_auth`` gives it.
SDK_CHECKS_TOKENS: Final = True

logger = logging.getLogger(__name__)

# Asymmetric algorithms only: the keys come from a public JWKS.
ALGORITHMS: Final = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
REQUIRED_CLAIMS: Final = ("exp", "iss", "aud")
JWKS_TIMEOUT: Final = 10.0
# Seconds. Fetched keys are used this long, so a key the authorization server withdraws stops
# passing within it; a token naming a key not among them has them fetched again, at most once
# per UNKNOWN_KEY_COOLDOWN (no client can make the service fetch on every request).
KEYS_MAX_AGE: Final = 300.0
UNKNOWN_KEY_COOLDOWN: Final = 30.0
# While the keys cannot be fetched: how often one request tries again, and the Retry-After.
KEYS_RETRY: Final = 5
# JSON-RPC's code for a server error, as in the limits' 503; the HTTP status says the rest.
SERVER_ERROR: Final = -32000
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
    """``app``, whose 401s for tokens that could not be checked become 503s; the SDK checks
    tokens itself (``server_auth``)."""
    return KeysUnavailableAnswer(app, retry_after=KEYS_RETRY)


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


class KeysDue(Exception):
    """The keys must be fetched before a token naming ``kid`` can be checked."""

    def __init__(self, kid: str) -> None:
        super().__init__(kid)
        self.kid = kid


class KeysUnavailable(Exception):
    """The signing keys are due a fetch that cannot be made now."""


class TokenCheck:
    """What checking one request's token met: set by the verifier, read by ``protect``'s
    middleware (the SDK passes nothing but None from the one to the other)."""

    __slots__ = ("keys_unavailable",)

    def __init__(self) -> None:
        self.keys_unavailable = False


token_check: ContextVar[TokenCheck | None] = ContextVar("token_check", default=None)


class JWTVerifier:
    """The SDK's ``TokenVerifier``: a valid token becomes an ``AccessToken``, anything else None."""

    def __init__(self, settings: AuthSettings) -> None:
        self.issuer = settings.auth_issuer
        self.audience = settings.expected_audience
        self.keys = SigningKeys(settings.auth_jwks_url)

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            try:
                # In a thread: parsing and checking a token is most of a request's work here
                # (pyjwt's base64 checks alone take tens of microseconds), and the event loop
                # is the one thread every request of the process shares.
                claims = await anyio.to_thread.run_sync(self._check, token)
            except KeysDue as due:  # the keys need fetching first
                key = await self.keys.get(due.kid)
                if key is None:
                    raise _no_key(due.kid) from None
                claims = await anyio.to_thread.run_sync(self._decode, token, key)
        except KeysUnavailable:
            self.keys.outage.refused += 1
            if (check := token_check.get()) is not None:
                check.keys_unavailable = True
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

    def _check(self, token: str) -> dict[str, Any]:
        """The token's claims, checked with a key at hand; raises ``KeysDue`` if there is none."""
        kid = jwt.get_unverified_header(token).get("kid")
        if not isinstance(kid, str):
            raise jwt.InvalidTokenError("the token names no signing key (kid)")
        key = self.keys.at_hand(kid)
        if key is None:
            raise _no_key(kid)
        return self._decode(token, key)

    def _decode(self, token: str, key: jwt.PyJWK) -> dict[str, Any]:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=list(ALGORITHMS),
            audience=self.audience,
            issuer=self.issuer,
            options={"require": list(REQUIRED_CLAIMS)},
        )
        return claims


def _no_key(kid: str) -> jwt.InvalidTokenError:
    return jwt.InvalidTokenError(f"the authorization server has no key {kid[:64]!r}")


class SigningKeys:
    """The authorization server's signing keys by id, fetched when a token needs them.

    Keys are fetched at first need, again once older than ``KEYS_MAX_AGE``, and when a token
    names a key not among them (at most once per ``UNKNOWN_KEY_COOLDOWN``). One fetch runs at a
    time, in a thread; requests whose key is at hand never wait for it (``at_hand``). When a
    fetch fails, the next is tried ``KEYS_RETRY`` seconds later, and until then every request
    whose token needs a fetch is refused at once (``KeysUnavailable``). The caching is done here
    rather than by pyjwt's ``PyJWKClient``, whose cache holds a lock across a fetch (so every
    request would wait out an unreachable server's timeout) and whose behaviour changed between
    releases; the client only fetches (http and https only, no redirects).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        # Read here rather than bound as defaults, so that tests can shorten them.
        self.max_age, self.cooldown, self.retry = KEYS_MAX_AGE, UNKNOWN_KEY_COOLDOWN, KEYS_RETRY
        self.outage = Outage(url, retry=self.retry)
        self._client = jwt.PyJWKClient(url, cache_jwk_set=False, timeout=JWKS_TIMEOUT)
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched = -math.inf  # when the keys were last fetched (time.monotonic)
        self._next_attempt = -math.inf  # during an outage, when to try again
        self._fetching = asyncio.Lock()

    def at_hand(self, kid: str) -> jwt.PyJWK | None:
        """The key ``kid`` names, or None if the authorization server has none by that id,
        without a fetch; from any thread.

        Raises:
            KeysDue: the keys must be fetched first (``get``).
        """
        if self._due(kid):
            raise KeysDue(kid)
        return self._keys.get(kid)

    async def get(self, kid: str) -> jwt.PyJWK | None:
        """The key ``kid`` names, or None if the authorization server has none by that id;
        fetched first if due. On the event loop.

        Raises:
            KeysUnavailable: the keys are due a fetch, and the last one failed less than
                ``retry`` seconds ago, or one is under way during an outage.
        """
        if not self._due(kid):
            return self._keys.get(kid)
        if self.outage.since is not None and (self._fetching.locked() or self._waiting()):
            raise KeysUnavailable
        async with self._fetching:
            if self._due(kid):  # else another request has fetched them meanwhile
                if self.outage.since is not None and self._waiting():
                    raise KeysUnavailable
                await self._fetch()
        return self._keys.get(kid)

    def _due(self, kid: str) -> bool:
        age = time.monotonic() - self._fetched
        return age >= self.max_age or (kid not in self._keys and age >= self.cooldown)

    def _waiting(self) -> bool:
        return time.monotonic() < self._next_attempt

    async def _fetch(self) -> None:
        try:
            fetched = await anyio.to_thread.run_sync(self._client.get_signing_keys)
        except (jwt.PyJWTError, OSError, ValueError) as exc:
            self._next_attempt = time.monotonic() + self.retry
            self.outage.begin(_reason(exc))
            raise KeysUnavailable from exc
        self._keys = {key.key_id: key for key in fetched if key.key_id}
        self._fetched = time.monotonic()
        self.outage.end()


class Outage:
    """The keys' availability as the log tells it: one WARNING when fetching them starts to
    fail, one INFO line when a fetch succeeds again, with the requests refused meanwhile."""

    def __init__(self, url: str, *, retry: float) -> None:
        self.url = url
        self.retry = retry
        self.since: float | None = None
        self.refused = 0

    def begin(self, reason: str) -> None:
        if self.since is not None:
            logger.debug("still cannot fetch the signing keys from %s (%s)", self.url, reason)
            return
        self.since, self.refused = time.monotonic(), 0
        logger.warning(
            "cannot fetch the signing keys from %s (%s): requests whose token needs them get "
            "503 until they can be fetched, tried again every %s s",
            self.url,
            reason,
            self.retry,
        )

    def end(self) -> None:
        if self.since is not None:
            logger.info(
                "signing keys fetched from %s again after %.1f s; %d requests refused meanwhile",
                self.url,
                time.monotonic() - self.since,
                self.refused,
            )
            self.since = None


class KeysUnavailableAnswer:
    """Pure ASGI middleware: a request whose token could not be checked, as the keys could not
    be had, gets 503 with ``Retry-After`` and a JSON-RPC error instead of the SDK's 401."""

    def __init__(self, app: ASGIApp, *, retry_after: int) -> None:
        self.app = app
        self.retry_after = str(retry_after).encode()
        self.message = (
            "Service Unavailable: the authorization server's signing keys cannot be fetched, "
            f"so access tokens cannot be checked; retry in {retry_after} s"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        check = TokenCheck()
        answered = False

        async def send_or_refuse(message: Message) -> None:
            nonlocal answered
            if answered:  # the rest of the 401 goes nowhere
                return
            if (
                check.keys_unavailable
                and message["type"] == "http.response.start"
                and message["status"] == 401
            ):
                answered = True
                await self._refuse(send)
                return
            await send(message)

        reset = token_check.set(check)
        try:
            await self.app(scope, receive, send_or_refuse)
        finally:
            token_check.reset(reset)

    async def _refuse(self, send: Send) -> None:
        rpc_id = None
        if (state := current.get()) is not None:
            # Counted as refused, by method (the guard has read the body): no guard event, as
            # the guard did not refuse it, and the outage's WARNING is this module's.
            state.outcome = Outcome.REFUSED
            if isinstance(state.rpc_id, str | int) and not isinstance(state.rpc_id, bool):
                rpc_id = state.rpc_id
        body = error_body(SERVER_ERROR, self.message, rpc_id)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", self.retry_after),
        ]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _reason(exc: BaseException) -> str:
    """What went wrong with a fetch, in a few words: the cause pyjwt wraps, if any."""
    cause = exc.__cause__ or exc
    if isinstance(cause, urllib.error.HTTPError):
        return f"HTTP {cause.code} {cause.reason}"
    if isinstance(cause, urllib.error.URLError) and isinstance(cause.reason, BaseException):
        cause = cause.reason
    return f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__


def _scopes(claims: dict[str, Any]) -> list[str]:
    """Scopes from ``scope`` (RFC 9068: space-separated) or ``scp`` (a list, some providers)."""
    raw = claims.get("scope", claims.get("scp", ""))
    if isinstance(raw, str):
        return raw.split()
    if isinstance(raw, list):
        return [str(scope) for scope in raw]
    return []
