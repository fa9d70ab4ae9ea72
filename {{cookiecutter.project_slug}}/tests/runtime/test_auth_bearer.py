"""Static bearer tokens: 401 without a configured token, /healthz open, no token ever logged.

The rest of the suite already runs authenticated (``credentials.py``); these tests check what
happens without, or with a wrong, token, and that the service refuses to start with none.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.runtime.settings import ENV_PREFIX
from {{ cookiecutter.package_name }}.settings import (
    Settings,
    SettingsError,
    read_settings,
)

from ..support.credentials import OTHER_TOKEN, TOKEN
from ..support.logs import LogWatch
from ..support.processes import (
    CONSOLE_SCRIPT,
    EXIT_TIMEOUT,
    LISTENING,
    MODULE,
    UVICORN,
    Process,
    clean_environment,
    run,
)
from ..support.rpc import LEGACY_PROTOCOL, Answer, rpc_request, send
from ..support.servers import RunningServer

WRONG_TOKEN = "wrong-token-but-well-formed-0123456789"
TOKENS_VARIABLE = f"{ENV_PREFIX}AUTH_TOKENS"


def tools_list(url: str, authorization: str | None) -> Answer:
    headers, body = rpc_request("tools/list", {}, protocol=LEGACY_PROTOCOL)
    headers.pop("authorization")
    if authorization is not None:
        headers["authorization"] = authorization
    return send(url, headers, body)


@pytest.mark.parametrize(
    ("authorization", "challenge"),
    [
        (None, "Bearer"),
        (f"Bearer {WRONG_TOKEN}", 'Bearer error="invalid_token"'),
        (f"Basic {TOKEN}", "Bearer"),
        ("Bearer", "Bearer"),
    ],
    ids=["missing", "wrong", "other-scheme", "empty"],
)
def test_without_a_valid_token_401_with_a_bearer_challenge(
    server: RunningServer, authorization: str | None, challenge: str
) -> None:
    answer = tools_list(server.mcp_url, authorization)
    assert answer.status == 401
    assert answer.headers["www-authenticate"] == challenge
    assert answer.message["error"] == "invalid_token"


@pytest.mark.parametrize("token", [TOKEN, OTHER_TOKEN], ids=["first", "second"])
def test_every_configured_token_is_accepted(server: RunningServer, token: str) -> None:
    answer = tools_list(server.mcp_url, f"bearer {token}")
    assert answer.status == 200, answer


def test_healthz_needs_no_token(server: RunningServer) -> None:
    assert httpx.get(f"{server.base_url}/healthz", timeout=10).status_code == 200


def test_tokens_are_comma_separated_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKENS_VARIABLE, f" {TOKEN}, {OTHER_TOKEN} ")
    loaded = read_settings()
    assert [token.get_secret_value() for token in loaded.auth_tokens] == [TOKEN, OTHER_TOKEN]
    assert TOKEN not in repr(loaded)
    assert TOKEN not in str(loaded)


@pytest.mark.parametrize(
    ("value", "secret"),
    [("", ""), (" , ", ""), ("shortsecret", "shortsecret"), ("with space 0123456789", "0123")],
    ids=["empty", "only-commas", "too-short", "not-a-token"],
)
def test_a_bad_token_setting_is_one_line_that_never_shows_the_value(
    monkeypatch: pytest.MonkeyPatch, value: str, secret: str
) -> None:
    monkeypatch.setenv(TOKENS_VARIABLE, value)
    with pytest.raises(SettingsError) as caught:
        read_settings()
    message = str(caught.value)
    assert message.startswith(f"invalid setting {TOKENS_VARIABLE}: "), message
    assert "\n" not in message
    assert not secret or secret not in message


@pytest.mark.parametrize(
    "command",
    [(CONSOLE_SCRIPT,), MODULE, (*UVICORN, "--port", "0")],
    ids=["console-script", "python-m", "uvicorn"],
)
def test_the_service_refuses_to_start_without_a_token(command: tuple[str | Path, ...]) -> None:
    """One line names the missing setting (under uvicorn, between its own about its start and
    its exit); no traceback."""
    env = clean_environment()
    del env[TOKENS_VARIABLE]
    result = run(*command, env=env)
    assert result.returncode != 0
    (line,) = [line for line in result.stderr.splitlines() if "invalid setting" in line]
    assert f"invalid setting {TOKENS_VARIABLE}: " in line, result.stderr
    assert "required but not set" in line, result.stderr
    assert "Traceback" not in result.stderr
    if "uvicorn" not in command:  # the command prints nothing else
        assert result.stderr.splitlines() == [line], result.stderr


def test_no_token_reaches_the_log(serve: Callable[..., RunningServer], logs: LogWatch) -> None:
    server = serve(create_app(Settings()))
    for authorization in (f"Bearer {TOKEN}", f"Bearer {WRONG_TOKEN}", None):
        tools_list(server.mcp_url, authorization)
    logged = logs.dump()
    assert "401 for POST /mcp" in logged
    for secret in (TOKEN, OTHER_TOKEN, WRONG_TOKEN):
        assert secret not in logged


def test_no_token_reaches_the_log_of_a_real_process_at_debug_level(
    launch: Callable[..., Process],
) -> None:
    process = launch(*MODULE, "--port", "0", "--log-level", "debug")
    port = int(process.wait_for_stderr(LISTENING).group(1))
    process.wait_for_stderr(re.compile(r"Application startup complete\.$"))
    url = f"http://127.0.0.1:{port}/mcp"
    assert tools_list(url, f"Bearer {TOKEN}").status == 200
    assert tools_list(url, f"Bearer {WRONG_TOKEN}").status == 401
    process.popen.send_signal(signal.SIGTERM)
    process.wait(timeout=EXIT_TIMEOUT)
    output = process.output()
    assert "401 for POST /mcp" in output
    for secret in (TOKEN, OTHER_TOKEN, WRONG_TOKEN):
        assert secret not in output
