"""The README's client examples and ``docs/clients.md``, run as written.

Every client configuration is parsed from the docs themselves: the stdio ones must name this
command with arguments that start the server, the HTTP ones a URL (and the headers, where the
service wants a token) that reach a running one. The README's curl commands are run by the shell
and its Python example as a script, against a real server. So the docs cannot drift from what
the service accepts. (The template's own CI runs the Inspector commands, which need Node.js.)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from {{ cookiecutter.package_name }} import SERVER_NAME

from ..support import credentials
from ..support.client import list_tool_names, over_stdio
from ..support.processes import CONSOLE_SCRIPT, STARTUP_TIMEOUT, clean_environment
from ..support.rpc import LEGACY_PROTOCOL, parse_rpc_response, rpc_request, send
from ..support.servers import RunningServer
from ..support.tools import QUICK, SUITE_TOOLS, team_tool_names

PROJECT = Path(__file__).resolve().parents[2]
README = PROJECT / "README.md"
CLIENTS = PROJECT / "docs" / "clients.md"
DOCUMENTED_URL = "http://127.0.0.1:8000/mcp"
# The example tool the Python example calls; the test has it call the suite's own quick tool
# (same arguments, same answer), so it checks the README's client code, not the example tools.
EXAMPLE_CALL = '"add", {"a": 2, "b": 3}'
SWAP = (EXAMPLE_CALL, EXAMPLE_CALL.replace('"add"', f'"{QUICK}"'))
# How the configurations refer to a token, where the service asks for one: VS Code prompts for
# it (the user types the one they exported), Cursor and the Python example read the MCP_TOKEN
# environment variable, which ``credentials.client_environment()`` sets.
TOKEN_PLACEHOLDERS = ("${input:mcp-token}", "${env:MCP_TOKEN}")


def code_blocks(page: Path, language: str) -> list[str]:
    text = page.read_text("utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```$", text, re.DOTALL | re.MULTILINE)


def server_entries() -> list[tuple[str, dict[str, Any]]]:
    """(config key, entry) for every server entry of every JSON block: mcpServers or servers."""
    entries = []
    for block in code_blocks(CLIENTS, "json"):
        config = json.loads(block)
        for key in ("mcpServers", "servers"):
            entries += [(key, entry) for entry in config.get(key, {}).values()]
    return entries


STDIO = [(key, entry) for key, entry in server_entries() if "command" in entry]
HTTP = [(key, entry) for key, entry in server_entries() if "url" in entry]


def test_the_readme_configures_stdio_and_http_in_both_shapes() -> None:
    """Claude Desktop and Cursor read mcpServers, VS Code reads servers (with a type)."""
    assert sorted(key for key, _ in STDIO) == ["mcpServers", "servers"]
    assert sorted(key for key, _ in HTTP) == ["mcpServers", "servers"]
    for key, entry in STDIO + HTTP:
        assert key == "mcpServers" or entry["type"] in ("stdio", "http"), entry
    for block in code_blocks(CLIENTS, "json"):
        config = json.loads(block)
        names = [name for key in ("mcpServers", "servers") for name in config.get(key, {})]
        assert names == [SERVER_NAME], block


# Each distinct way the configs start the server (the shapes differ in their keys, not in the
# command they run), as (arguments, environment).
STDIO_LAUNCHES = sorted(
    {(tuple(entry["args"]), tuple(sorted(entry.get("env", {}).items()))) for _, entry in STDIO}
)


def test_every_stdio_config_runs_this_console_script() -> None:
    for _, entry in STDIO:
        assert Path(entry["command"]).name == SERVER_NAME, entry


@pytest.mark.process
@pytest.mark.anyio
@pytest.mark.parametrize(
    ("args", "env"), STDIO_LAUNCHES, ids=[" ".join(args) for args, _ in STDIO_LAUNCHES]
)
async def test_a_stdio_config_starts_the_server(
    args: tuple[str, ...], env: tuple[tuple[str, str], ...], tmp_path: Path
) -> None:
    """The configured arguments make this console script (wherever it is installed) serve over
    stdio, in the minimal environment a desktop app gives."""
    with (tmp_path / "stderr.log").open("w+") as errlog:
        async with over_stdio(str(CONSOLE_SCRIPT), list(args), dict(env), errlog) as session:
            assert await list_tool_names(session) == await team_tool_names()


def readme_headers(entry: dict[str, Any]) -> dict[str, str]:
    """The entry's headers as its client sends them, the token filled in where one is asked for."""
    headers: dict[str, str] = dict(entry.get("headers", {}))
    for name, value in headers.items():
        for placeholder in TOKEN_PLACEHOLDERS:
            if placeholder in value:
                value = value.replace(placeholder, credentials.client_environment()["MCP_TOKEN"])
        headers[name] = value
    return headers


@pytest.mark.parametrize(("key", "entry"), HTTP, ids=[key for key, _ in HTTP])
def test_an_http_config_reaches_the_server(
    key: str, entry: dict[str, Any], server: RunningServer
) -> None:
    """The configured URL, moved to the test server's port, answers tools/list with only the
    configured headers."""
    assert entry["url"] == DOCUMENTED_URL
    headers, body = rpc_request("tools/list", {}, protocol=LEGACY_PROTOCOL)
    # Only the documented headers: not the credentials every other test presents.
    headers = {name: value for name, value in headers.items() if name not in credentials.headers()}
    url = entry["url"].replace(DOCUMENTED_URL, server.mcp_url)
    listed = send(url, {**headers, **readme_headers(entry)}, body)
    assert set(SUITE_TOOLS) <= {tool["name"] for tool in listed.result["tools"]}
    # And the README's headers, where it gives any, are what lets it in.
    without_them = send(url, headers, body)
    assert without_them.status == (401 if readme_headers(entry) else 200), without_them


@pytest.mark.process
def test_the_python_example_prints_the_sum(server: RunningServer) -> None:
    (example,) = code_blocks(README, "python")
    assert DOCUMENTED_URL in example
    assert EXAMPLE_CALL in example
    env = {**clean_environment(), **credentials.client_environment()}
    code = example.replace(DOCUMENTED_URL, server.mcp_url).replace(*SWAP)
    assert printed_by([sys.executable, "-c", code], env) == "{'result': 5.0}\n"


def printed_by(command: list[str], env: dict[str, str]) -> str:
    """What a README example printed, run as a user would; it must succeed."""
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=STARTUP_TIMEOUT, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


# The README's tools/call names the example tool; the test has curl call the suite's own.
CURL_SWAP = ('"name": "add"', f'"name": "{QUICK}"')
IN_CI = os.environ.get("CI", "").lower() in {"true", "1"}


def curl_commands() -> list[str]:
    """The README's curl commands, each on one line, as the shell reads them."""
    (block,) = [block for block in code_blocks(README, "sh") if block.startswith("curl ")]
    return block.replace("\\\n", " ").splitlines()


def run_curl(command: str, url: str, env: dict[str, str]) -> str:
    """Run a README curl command with the shell, at ``url``; what it printed."""
    if shutil.which("curl") is None:
        reason, how = "no curl, which the README's examples use", "apt-get install curl"
        if IN_CI:
            pytest.fail(f"{reason}; CI=true, so this test must run ({how})")
        pytest.skip(f"{reason}: {how}")
    assert DOCUMENTED_URL in command, command
    return printed_by(["sh", "-c", command.replace(DOCUMENTED_URL, url)], env)


@pytest.mark.process
def test_the_curl_commands_list_the_tools_and_call_one(server: RunningServer) -> None:
    """tools/list and tools/call with only the README's headers (and its token, if any)."""
    listing, call = curl_commands()
    env = {**clean_environment(), **credentials.client_environment()}
    # The default answers a call that asks for no progress with plain JSON, as the README says.
    listed = parse_rpc_response("application/json", run_curl(listing, server.mcp_url, env))
    assert set(SUITE_TOOLS) <= {tool["name"] for tool in listed["result"]["tools"]}
    assert CURL_SWAP[0] in call
    answer = run_curl(call.replace(*CURL_SWAP), server.mcp_url, env)
    called = parse_rpc_response("application/json", answer)
    assert called["result"]["structuredContent"] == {"result": 5.0}
    # Where the service wants a token, the README's is what lets the commands in.
    if credentials.client_environment():
        refused = run_curl(listing, server.mcp_url, {**env, "MCP_TOKEN": ""})
        assert "error" in json.loads(refused), refused
