"""OAuth resource server: which JWTs reach ``/mcp``, what the others get, and the metadata;
and what requests get while the authorization server's keys cannot be fetched.

The test authorization server lives in ``credentials.py``: an RSA key made in the test and a
JWKS served on 127.0.0.1, so nothing here touches the network. The rest of the suite already
runs with a valid token; these tests present bad ones. The outage tests serve the JWKS from an
``Authority`` of their own, which they take down and bring back.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from starlette.types import ASGIApp

from {{ cookiecutter.package_name }} import SERVER_NAME
from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.runtime import auth
from {{ cookiecutter.package_name }}.runtime.settings import ENV_PREFIX
from {{ cookiecutter.package_name }}.settings import (
    Settings,
    SettingsError,
    read_settings,
)

from ..support.credentials import ISSUER, KEY, RESOURCE_URL, SCOPE, SigningKey
from ..support.logs import LogWatch
from ..support.metrics import scrape, value
from ..support.processes import MODULE, clean_environment, run
from ..support.rpc import LEGACY_PROTOCOL, Answer, rpc_request, send
from ..support.servers import RunningServer

AUTH_LOGGER = auth.__name__

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


class Authority:
    """An authorization server's JWKS on 127.0.0.1, on one port for the whole test, so that the
    test can take it down (connections refused), make it fail, and bring it back."""

    def __init__(self, *keys: SigningKey) -> None:
        self.keys = keys
        self.status = 200
        self.body = json.dumps({"keys": [key.jwk() for key in keys]}).encode()
        self.port = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/jwks.json"

    def up(self) -> None:
        authority = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(authority.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(authority.body)))
                self.end_headers()
                self.wfile.write(authority.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def authority() -> Iterator[Authority]:
    authority = Authority(KEY)
    authority.up()
    try:
        yield authority
    finally:
        authority.down()


def service_trusting(
    url: str, serve: Callable[[ASGIApp], RunningServer], monkeypatch: pytest.MonkeyPatch
) -> RunningServer:
    """The service, on a real server, with its keys at ``url``."""
    monkeypatch.setenv(f"{ENV_PREFIX}AUTH_JWKS_URL", url)
    return serve(create_app(Settings()))


def assert_refused_for_the_keys(answer: Answer, retry_after: int) -> None:
    """A 503 that says the fault is the server's: Retry-After and a JSON-RPC error with the
    request's id (``tools_list`` sends 1), no challenge to authenticate again."""
    assert answer.status == 503, answer
    assert answer.headers["retry-after"] == str(retry_after)
    assert "www-authenticate" not in answer.headers
    error = answer.message
    assert error["id"] == 1, error
    assert error["error"]["code"] == -32000, error
    assert "signing keys cannot be fetched" in error["error"]["message"]


def auth_lines(logs: LogWatch, level: int) -> list[str]:
    return [r.getMessage() for r in logs.records if r.name == AUTH_LOGGER and r.levelno == level]


def test_while_the_keys_cannot_be_fetched_tokens_get_503_and_the_log_two_lines(
    authority: Authority,
    serve: Callable[[ASGIApp], RunningServer],
    logs: LogWatch,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Keys stale at once, so that every request needs them fetched; a retry every second.
    monkeypatch.setattr(auth, "KEYS_MAX_AGE", 0.0)
    monkeypatch.setattr(auth, "KEYS_RETRY", 1)
    server = service_trusting(authority.url, serve, monkeypatch)
    assert tools_list(server.mcp_url, KEY.mint()).status == 200

    authority.down()
    refused = 0
    for _ in range(30):
        assert_refused_for_the_keys(tools_list(server.mcp_url, KEY.mint()), retry_after=1)
        refused += 1
    # What the client did wrong is still the client's fault; the probe and the scrape answer.
    assert tools_list(server.mcp_url, "not-a-jwt").status == 401
    assert tools_list(server.mcp_url, None).status == 401
    health = httpx.get(f"{server.base_url}/healthz", timeout=10)
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    samples = scrape(server.base_url)
    listed = {"method": "tools/list", "tool": ""}
    assert value(samples, "mcp_requests_total", **listed, outcome="refused") == refused

    authority.up()
    deadline = time.monotonic() + 10
    while (answer := tools_list(server.mcp_url, KEY.mint())).status == 503:
        assert time.monotonic() < deadline, "the keys were not fetched again"
        refused += 1
    assert answer.status == 200, answer
    assert tools_list(server.mcp_url, KEY.mint(exp=int(time.time()) - 60)).status == 401
    server.settle()

    (warning,) = auth_lines(logs, logging.WARNING)
    assert warning.startswith(f"cannot fetch the signing keys from {authority.url} ("), warning
    assert "ConnectionRefusedError" in warning
    (recovered,) = [line for line in auth_lines(logs, logging.INFO) if "again" in line]
    assert recovered.startswith(f"signing keys fetched from {authority.url} again after ")
    assert recovered.endswith(f"; {refused} requests refused meanwhile"), recovered
    access = [r.getMessage() for r in logs.access_lines()]
    assert sum("-> refused (HTTP 503)" in line for line in access) == refused
    assert not logs.errors(), logs.dump()
    assert not logs.tracebacks(), logs.dump()


def test_tokens_whose_key_is_at_hand_are_served_while_the_keys_cannot_be_fetched(
    authority: Authority,
    serve: Callable[[ASGIApp], RunningServer],
    logs: LogWatch,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Keys fetched under ``KEYS_MAX_AGE`` ago still check tokens: only a token that needs a
    fetch (here one naming a key the service has not seen, a rotation say) gets the 503."""
    monkeypatch.setattr(auth, "UNKNOWN_KEY_COOLDOWN", 0.0)
    server = service_trusting(authority.url, serve, monkeypatch)
    assert tools_list(server.mcp_url, KEY.mint()).status == 200
    authority.down()
    rotated = SigningKey("tests-key-2")
    assert_refused_for_the_keys(tools_list(server.mcp_url, rotated.mint()), retry_after=5)
    for _ in range(3):
        assert tools_list(server.mcp_url, KEY.mint()).status == 200
    assert len(auth_lines(logs, logging.WARNING)) == 1


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [(500, b"upstream failed", "HTTP 500"), (200, b"<html>sign in</html>", "JSONDecodeError")],
    ids=["erroring", "not-json"],
)
def test_keys_that_come_back_wrong_are_the_server_s_fault_too(
    authority: Authority,
    serve: Callable[[ASGIApp], RunningServer],
    logs: LogWatch,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    body: bytes,
    reason: str,
) -> None:
    authority.status, authority.body = status, body
    server = service_trusting(authority.url, serve, monkeypatch)
    for _ in range(3):
        assert_refused_for_the_keys(tools_list(server.mcp_url, KEY.mint()), retry_after=5)
    (warning,) = auth_lines(logs, logging.WARNING)
    assert reason in warning, warning


def test_a_jwks_that_never_answers_holds_up_one_request_per_retry(
    serve: Callable[[ASGIApp], RunningServer],
    logs: LogWatch,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Requests that arrive while a fetch is under way, or until the next retry, are answered
    without a fetch of their own: the silent server is connected to once, for all of them."""
    monkeypatch.setattr(auth, "JWKS_TIMEOUT", 0.5)
    monkeypatch.setattr(auth, "KEYS_RETRY", 60)
    # Listens (the kernel completes connections) but never accepts, reads or answers.
    with socket.create_server(("127.0.0.1", 0), backlog=64) as silent:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/jwks.json"
        server = service_trusting(url, serve, monkeypatch)
        with ThreadPoolExecutor(10) as pool:
            at_once = list(pool.map(lambda _: tools_list(server.mcp_url, KEY.mint()), range(10)))
        later = [tools_list(server.mcp_url, KEY.mint()) for _ in range(10)]
        for answer in at_once + later:
            assert_refused_for_the_keys(answer, retry_after=60)
        silent.setblocking(False)
        connections = 0
        while True:
            try:
                silent.accept()[0].close()
            except BlockingIOError:
                break
            connections += 1
    assert connections == 1
    (warning,) = auth_lines(logs, logging.WARNING)
    assert "TimeoutError" in warning, warning
