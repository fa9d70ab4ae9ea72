"""OAuth resource server: which JWTs reach ``/mcp``, what the others get, and the metadata.

The test authorization server lives in ``credentials.py``: an RSA key made in the test and a
JWKS served on 127.0.0.1, so nothing here touches the network. The rest of the suite already
runs with a valid token; these tests present bad ones.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pytest

from {{ cookiecutter.package_name }} import SERVER_NAME
from {{ cookiecutter.package_name }}.runtime.settings import ENV_PREFIX
from {{ cookiecutter.package_name }}.settings import (
    SettingsError,
    read_settings,
)

from ..support.credentials import ISSUER, KEY, RESOURCE_URL, SCOPE, SigningKey
from ..support.logs import LogWatch
from ..support.processes import MODULE, clean_environment, run
from ..support.rpc import LEGACY_PROTOCOL, Answer, rpc_request, send
from ..support.servers import RunningServer

METADATA_PATH = "/.well-known/oauth-protected-resource/mcp"


def tools_list(url: str, token: str | None) -> Answer:
    headers, body = rpc_request("tools/list", {}, protocol=LEGACY_PROTOCOL)
    headers.pop("authorization")
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    return send(url, headers, body)


def unsigned(**claims: Any) -> str:
    """A token with ``alg: none``: what an attacker sends hoping no signature is checked."""
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": RESOURCE_URL, "scope": SCOPE, "exp": now + 600, **claims}
    return jwt.encode(payload, "", algorithm="none", headers={"kid": KEY.kid})


def test_a_valid_token_is_served(server: RunningServer) -> None:
    answer = tools_list(server.mcp_url, KEY.mint())
    assert answer.status == 200, answer


BAD_TOKENS = {
    "expired": lambda: KEY.mint(exp=int(time.time()) - 60),
    "wrong-audience": lambda: KEY.mint(aud="https://other.example.test/mcp"),
    "wrong-issuer": lambda: KEY.mint(iss="https://other-issuer.example.test"),
    "wrong-signature": lambda: SigningKey(KEY.kid).mint(),
    "unknown-key": lambda: SigningKey("unknown-key").mint(),
    "alg-none": unsigned,
    "no-expiry": lambda: KEY.mint(exp=None),
    "not-a-jwt": lambda: "not-a-jwt",
}


@pytest.mark.parametrize("make_token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_a_bad_token_gets_401_pointing_at_the_metadata(
    server: RunningServer, make_token: Any, logs: LogWatch
) -> None:
    token: str = make_token()
    answer = tools_list(server.mcp_url, token)
    assert answer.status == 401, answer
    challenge = answer.headers["www-authenticate"]
    assert challenge.startswith('Bearer error="invalid_token"'), challenge
    assert f'resource_metadata="https://mcp.example.test{METADATA_PATH}"' in challenge
    assert token not in logs.dump()


def test_no_token_gets_401(server: RunningServer) -> None:
    answer = tools_list(server.mcp_url, None)
    assert answer.status == 401
    assert answer.headers["www-authenticate"].startswith("Bearer ")


def test_a_token_without_the_required_scope_gets_403(server: RunningServer) -> None:
    answer = tools_list(server.mcp_url, KEY.mint(scope="profile"))
    assert answer.status == 403, answer
    assert 'error="insufficient_scope"' in answer.headers["www-authenticate"]


def test_scopes_may_come_as_a_list_in_scp(server: RunningServer) -> None:
    answer = tools_list(server.mcp_url, KEY.mint(scope=None, scp=[SCOPE]))
    assert answer.status == 200, answer


def test_protected_resource_metadata_names_the_authorization_server(
    server: RunningServer,
) -> None:
    response = httpx.get(f"{server.base_url}{METADATA_PATH}", timeout=10)
    assert response.status_code == 200
    metadata = response.json()
    assert metadata["resource"] == RESOURCE_URL
    assert [url.rstrip("/") for url in metadata["authorization_servers"]] == [ISSUER]
    assert metadata["scopes_supported"] == [SCOPE]


def test_healthz_needs_no_token(server: RunningServer) -> None:
    assert httpx.get(f"{server.base_url}/healthz", timeout=10).status_code == 200


@pytest.mark.parametrize("name", ["AUTH_ISSUER", "AUTH_JWKS_URL", "AUTH_RESOURCE_URL"])
def test_the_service_refuses_to_start_without_a_required_setting(name: str) -> None:
    env = clean_environment()
    del env[ENV_PREFIX + name]
    result = run(*MODULE, env=env)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"{SERVER_NAME}: error: invalid setting {ENV_PREFIX}{name}=''"), line
    assert "required but not set" in line


def test_urls_must_be_http_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"{ENV_PREFIX}AUTH_JWKS_URL", "issuer.example.test/jwks")
    with pytest.raises(SettingsError, match=f"^invalid setting {ENV_PREFIX}AUTH_JWKS_URL="):
        read_settings()


def test_the_audience_defaults_to_the_resource_url(monkeypatch: pytest.MonkeyPatch) -> None:
    assert read_settings().expected_audience == RESOURCE_URL
    monkeypatch.setenv(f"{ENV_PREFIX}AUTH_AUDIENCE", "api://mcp")
    assert read_settings().expected_audience == "api://mcp"
