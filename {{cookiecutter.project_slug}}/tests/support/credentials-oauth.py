"""The credentials every test presents, so the whole suite runs through the real auth path.

One API in every bake, whatever the auth answer (``credentials-none.py`` presents nothing). For
the session, ``active()`` serves a test authorization server's keys (JWKS) on a local port;
``conftest.py`` exports ``environment()`` (so ``Settings()`` points at that server),
``processes.clean_environment`` hands it to child processes, ``rpc.py`` and ``sdk_client.py``
send ``headers()`` (a token minted here) with every request, and the README's client examples
are run with ``client_environment()``. Tests of authentication itself live in
``runtime/test_auth_oauth.py``. No network: keys are made here, and the JWKS is served on
127.0.0.1.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ISSUER = "https://issuer.example.test"
RESOURCE_URL = "https://mcp.example.test/mcp"
SCOPE = "mcp:tools"


class SigningKey:
    """An RSA key pair with a key id, as an authorization server holds one."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict[str, Any]:
        public: dict[str, Any] = json.loads(
            jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key())
        )
        return {**public, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def mint(self, **claims: Any) -> str:
        """A token valid for this server unless ``claims`` say otherwise (None drops a claim)."""
        now = int(time.time())
        payload = {
            "iss": ISSUER,
            "aud": RESOURCE_URL,
            "sub": "user-1",
            "client_id": "tests",
            "scope": SCOPE,
            "iat": now,
            "exp": now + 3600,
            **claims,
        }
        payload = {name: value for name, value in payload.items() if value is not None}
        return jwt.encode(payload, self.private, algorithm="RS256", headers={"kid": self.kid})


KEY = SigningKey("tests-key-1")
TOKEN = KEY.mint()
_environment: dict[str, str] = {}


def jwks_app(*keys: SigningKey) -> Starlette:
    """What an authorization server publishes at its ``jwks_uri``."""

    async def jwks(request: Request) -> JSONResponse:
        return JSONResponse({"keys": [key.jwk() for key in keys]})

    return Starlette(routes=[Route("/jwks.json", jwks)])


@contextmanager
def active() -> Iterator[None]:
    """Serve the test JWKS while the block runs; ``environment()`` points at it."""
    from .servers import serving  # here: servers imports rpc, which imports this module

    with serving(jwks_app(KEY)) as server:
        _environment.update(
            {
                "AUTH_ISSUER": ISSUER,
                "AUTH_JWKS_URL": f"{server.base_url}/jwks.json",
                "AUTH_RESOURCE_URL": RESOURCE_URL,
                "AUTH_REQUIRED_SCOPES": SCOPE,
            }
        )
        try:
            yield
        finally:
            _environment.clear()


def environment() -> dict[str, str]:
    """The auth settings, without the prefix; empty outside ``active()``."""
    return dict(_environment)


def headers() -> dict[str, str]:
    """What every request of the suite carries."""
    return {"authorization": f"Bearer {TOKEN}"}


def client_environment() -> dict[str, str]:
    """What a client set up as the README says reads its token from."""
    return {"MCP_TOKEN": TOKEN}
