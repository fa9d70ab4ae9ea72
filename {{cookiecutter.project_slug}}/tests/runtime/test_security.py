"""Secure defaults, against real servers: the host and origin check, proxy trust and limits.

DNS rebinding is what the host and origin check stops: a foreign ``Host`` gets 421 and a
foreign ``Origin`` 403 (both from the SDK's check, configured in ``security.py``), while
non-browser clients, which send no ``Origin``, pass. The uvicorn limits and proxy trust are
set in ``cli.py``, so those tests run the service as a process.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.runtime.hosts import bind_names
from {{ cookiecutter.package_name }}.runtime.settings import ENV_PREFIX
from {{ cookiecutter.package_name }}.settings import (
    Settings,
    SettingsError,
    read_settings,
)

from ..support.logs import LogWatch
from ..support.processes import LISTENING, MODULE, Process, clean_environment
from ..support.rpc import LEGACY_PROTOCOL, Answer, rpc_request, send
from ..support.servers import RunningServer

# The access line of a GET /healthz, written at DEBUG (``access.py``).
ACCESS_LOG = re.compile(r"DEBUG \S+\.access: GET /healthz -> ok \(HTTP 200\) .*, client (\S+),")


def tools_list(url: str, **headers: str) -> Answer:
    """A tools/list request with ``headers`` added (``host`` and ``origin`` replace httpx's)."""
    base, body = rpc_request("tools/list", {}, protocol=LEGACY_PROTOCOL)
    return send(url, {**base, **headers}, body)


def test_a_foreign_host_gets_421(server: RunningServer) -> None:
    answer = tools_list(server.mcp_url, host="attacker.example:8000")
    assert answer.status == 421, answer


def test_a_foreign_origin_gets_403(server: RunningServer) -> None:
    answer = tools_list(server.mcp_url, origin="https://attacker.example")
    assert answer.status == 403, answer


def test_a_client_without_origin_passes(server: RunningServer) -> None:
    """Non-browser MCP clients send no Origin header; they must not be refused."""
    assert tools_list(server.mcp_url).status == 200


def test_a_page_served_from_the_bind_address_passes(server: RunningServer) -> None:
    answer = tools_list(server.mcp_url, origin=f"http://localhost:{server.port}")
    assert answer.status == 200, answer


@pytest.mark.parametrize(
    ("allowed_host", "host"),
    [("mcp.example.com", "mcp.example.com"), ("mcp.example.com:*", "mcp.example.com:8443")],
    ids=["exact", "wildcard-port"],
)
def test_a_configured_proxy_host_and_origin_pass(
    serve: Callable[..., RunningServer], allowed_host: str, host: str
) -> None:
    """Behind a reverse proxy that passes the public Host on (python-sdk issue 1798)."""
    origin = "https://mcp.example.com"
    server = serve(create_app(Settings(allowed_hosts=(allowed_host,), allowed_origins=(origin,))))
    answer = tools_list(server.mcp_url, host=host, origin="https://mcp.example.com")
    assert answer.status == 200, answer
    assert tools_list(server.mcp_url, host="other.example.com").status == 421


def test_allowed_lists_are_comma_separated_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(f"{ENV_PREFIX}ALLOWED_HOSTS", "mcp.example.com, 10.0.0.5:*,")
    monkeypatch.setenv(f"{ENV_PREFIX}ALLOWED_ORIGINS", "https://mcp.example.com")
    loaded = read_settings()
    assert loaded.allowed_hosts == ("mcp.example.com", "10.0.0.5:*")
    assert loaded.allowed_origins == ("https://mcp.example.com",)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ALLOWED_HOSTS", "https://mcp.example.com"),
        ("ALLOWED_HOSTS", "mcp.example.com/mcp"),
        ("ALLOWED_ORIGINS", "mcp.example.com"),
        ("ALLOWED_ORIGINS", "https://mcp.example.com/"),
        ("MAX_HEADER_BYTES", "100"),
    ],
)
def test_a_malformed_entry_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(ENV_PREFIX + name, value)
    with pytest.raises(SettingsError) as caught:
        read_settings()
    assert str(caught.value).startswith(f"invalid setting {ENV_PREFIX}{name}="), caught.value
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("host", "names"),
    [
        ("127.0.0.1", ("127.0.0.1", "localhost", "[::1]")),
        ("::1", ("127.0.0.1", "localhost", "[::1]")),
        ("0.0.0.0", ("127.0.0.1", "localhost", "[::1]")),
        ("10.0.0.5", ("10.0.0.5",)),
        ("fd00::5", ("[fd00::5]",)),
        ("mcp.internal", ("mcp.internal",)),
    ],
)
def test_the_bind_address_decides_the_default_names(host: str, names: tuple[str, ...]) -> None:
    assert bind_names(host) == names


def test_every_interface_without_allowed_hosts_warns_once_saying_what_to_set(
    logs: LogWatch,
) -> None:
    create_app(Settings(host="0.0.0.0"))
    (warning,) = logs.warnings()
    assert f"{ENV_PREFIX}ALLOWED_HOSTS" in warning.getMessage()
    create_app(Settings(host="0.0.0.0", allowed_hosts=("mcp.example.com",)))
    create_app(Settings())
    assert len(logs.warnings()) == 1, logs.dump()


def start(launch: Callable[..., Process], **settings: str) -> tuple[Process, str]:
    """The service as a process, as operators start it; returns it and its base URL."""
    process = launch(*MODULE, "--port", "0", env=clean_environment(**settings))
    port = int(process.wait_for_stderr(LISTENING).group(1))
    process.wait_for_stderr(re.compile(r"Application startup complete\.$"))
    return process, f"http://127.0.0.1:{port}"


@pytest.mark.process
def test_headers_over_the_limit_get_431(launch: Callable[..., Process]) -> None:
    _, base_url = start(launch, MAX_HEADER_BYTES="4096")
    padded = httpx.get(f"{base_url}/healthz", headers={"x-padding": "a" * 5000}, timeout=10)
    assert padded.status_code == 431
    assert padded.text == "Request headers too large: the limit is 4096 bytes"
    assert httpx.get(f"{base_url}/healthz", timeout=10).status_code == 200


@pytest.mark.process
@pytest.mark.parametrize(
    ("trusted", "logged_client"),
    [("127.0.0.1", "203.0.113.9"), ("192.0.2.1", "127.0.0.1")],
    ids=["trusted-proxy", "untrusted-proxy"],
)
def test_forwarded_headers_count_only_from_trusted_proxies(
    launch: Callable[..., Process], trusted: str, logged_client: str
) -> None:
    process, base_url = start(launch, FORWARDED_ALLOW_IPS=trusted, LOG_LEVEL="debug")
    response = httpx.get(
        f"{base_url}/healthz", headers={"x-forwarded-for": "203.0.113.9"}, timeout=10
    )
    assert response.status_code == 200
    client = process.wait_for_stderr(ACCESS_LOG).group(1)
    assert client.rsplit(":", 1)[0] == logged_client, process.output()
