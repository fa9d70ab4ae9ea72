"""The service over stdio, as desktop and IDE clients start it: ``--transport stdio``.

The client owns the process: it writes requests to stdin, reads answers from stdout, shows
stderr as the server's log, and stops the server by closing stdin (or with SIGTERM). So stdout
must carry protocol messages only, every log line must go to stderr, and the end must be a
quiet exit 0. The HTTP-only settings (address, port, limits, auth) must not get in the way.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from {{ cookiecutter.package_name }} import SERVER_NAME
from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.runtime.settings import ENV_PREFIX
from {{ cookiecutter.package_name }}.settings import (
    Settings,
    SettingsError,
)

from ..support.client import call_tool, list_tool_names, over_stdio
from ..support.logs import LOG_LINE
from ..support.processes import (
    CONSOLE_SCRIPT,
    EXIT_TIMEOUT,
    MODULE,
    PACKAGE,
    SUITE_TOOLS_ENV,
    UVICORN,
    clean_environment,
    run,
    without_credentials,
)
from ..support.rpc import LEGACY_PROTOCOL
from ..support.tools import QUICK, SLOW, SUITE_TOOLS, add_call

pytestmark = pytest.mark.process

STDIO_ARGS = ["--transport", "stdio"]


class StdioProcess:
    """The server as a child process, spoken to line by line in raw JSON-RPC."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.popen = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )

    def send(self, message: dict[str, Any]) -> None:
        assert self.popen.stdin is not None
        self.popen.stdin.write(json.dumps(message) + "\n")
        self.popen.stdin.flush()

    def request(self, request_id: int, method: str, params: dict[str, Any]) -> Any:
        """Send one request and return the next line of stdout, which must be its answer."""
        self.send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        assert self.popen.stdout is not None
        answer = json.loads(self.popen.stdout.readline())
        assert answer["id"] == request_id, answer
        return answer

    def initialize(self) -> None:
        client = {"name": "tests", "version": "0"}
        params = {"protocolVersion": LEGACY_PROTOCOL, "capabilities": {}, "clientInfo": client}
        answer = self.request(1, "initialize", params)
        assert answer["result"]["protocolVersion"] == LEGACY_PROTOCOL, answer
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def finish(self) -> tuple[int, str, str]:
        """Close stdin, as a client does to stop the server; exit code, rest of stdout, stderr."""
        stdout, stderr = self.popen.communicate(timeout=EXIT_TIMEOUT)
        return self.popen.returncode, stdout, stderr


StartStdio = Callable[..., StdioProcess]


@pytest.fixture
def start_stdio() -> Iterator[StartStdio]:
    started: list[StdioProcess] = []

    def start(*args: str, env: dict[str, str] | None = None) -> StdioProcess:
        process = StdioProcess(
            [*(str(arg) for arg in MODULE), *args], clean_environment() if env is None else env
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.popen.poll() is None:
            process.popen.kill()
            process.popen.communicate(timeout=EXIT_TIMEOUT)


def assert_only_log_lines(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert [line for line in stderr.splitlines() if not LOG_LINE.match(line)] == [], stderr


def test_stdout_carries_only_answers_and_closing_stdin_exits_0(start_stdio: StartStdio) -> None:
    process = start_stdio(*STDIO_ARGS)
    process.initialize()
    listed = process.request(2, "tools/list", {})
    assert set(SUITE_TOOLS) <= {tool["name"] for tool in listed["result"]["tools"]}
    added = process.request(3, "tools/call", add_call(2, 3))
    assert added["result"]["structuredContent"] == {"result": 5.0}
    # A tool error is an answer like any other, on stdout; the log line about it on stderr.
    refused = process.request(4, "tools/call", {"name": SLOW, "arguments": {"seconds": -1}})
    assert refused["result"]["isError"] is True, refused

    code, rest_of_stdout, stderr = process.finish()
    assert code == 0, stderr
    assert rest_of_stdout == ""
    assert_only_log_lines(stderr)
    assert "serving MCP on stdin/stdout" in stderr.splitlines()[0], stderr
    assert stderr.splitlines()[-1].endswith("stdin closed, stopping"), stderr


def test_http_only_settings_are_ignored(start_stdio: StartStdio) -> None:
    """A bind address that warns and a port that is taken would stop HTTP, but not stdio."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = str(taken.getsockname()[1])
        # The settings that check clients are HTTP's too: stdio starts without them.
        env = without_credentials(clean_environment(TRANSPORT="stdio", HOST="0.0.0.0", PORT=port))
        process = start_stdio(env=env)
        process.initialize()
        added = process.request(2, "tools/call", add_call(1, 1))
        assert added["result"]["structuredContent"] == {"result": 2.0}
        code, _, stderr = process.finish()
    assert code == 0, stderr
    assert_only_log_lines(stderr)
    assert f" WARNING {PACKAGE}." not in stderr, stderr  # e.g. about binding 0.0.0.0


def test_sigterm_exits_0_quietly(start_stdio: StartStdio) -> None:
    """A client that gives up on a server still reading stdin stops it with SIGTERM."""
    process = start_stdio(*STDIO_ARGS)
    process.initialize()
    process.popen.send_signal(signal.SIGTERM)
    # Only now close stdin: a server that waits for EOF instead of stopping fails the timeout.
    assert process.popen.wait(timeout=EXIT_TIMEOUT) == 0
    code, _, stderr = process.finish()
    assert code == 0, stderr
    assert_only_log_lines(stderr)
    assert stderr.splitlines()[-1].endswith("stopped by SIGTERM"), stderr


@pytest.mark.anyio
async def test_the_sdk_stdio_client_lists_and_calls_the_tools(tmp_path: Path) -> None:
    """The SDK's own stdio client starts the console script the way a desktop client does."""
    reports: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reports.append((progress, total, message))

    with (tmp_path / "stderr.log").open("w+") as errlog:
        async with over_stdio(str(CONSOLE_SCRIPT), STDIO_ARGS, SUITE_TOOLS_ENV, errlog) as session:
            assert set(SUITE_TOOLS) <= set(await list_tool_names(session))
            added = await call_tool(session, QUICK, {"a": 2, "b": 3})
            assert added.structured == {"result": 5.0}
            done = await call_tool(session, SLOW, {"seconds": 0.1, "steps": 2}, on_progress)
            assert not done.is_error, done
            refused = await call_tool(session, SLOW, {"seconds": -1})
            assert refused.is_error
            assert "seconds" in refused.text
        errlog.seek(0)
        stderr = errlog.read()
    assert reports == [(1, 2, "step 1 of 2"), (2, 2, "step 2 of 2")]
    assert_only_log_lines(stderr)


def test_no_http_app_is_built_from_stdio_settings() -> None:
    """Over stdio the auth settings may be unset, so an HTTP app must refuse such settings."""
    with pytest.raises(SettingsError, match=f"{ENV_PREFIX}TRANSPORT='stdio'"):
        create_app(Settings(transport="stdio"))
    env = without_credentials(clean_environment(TRANSPORT="stdio"))
    result = run(*UVICORN, "--port", "0", env=env)
    assert result.returncode != 0
    ours = [line for line in result.stderr.splitlines() if f"{SERVER_NAME}: error: " in line]
    assert len(ours) == 1, result.stderr
    assert ours[0].endswith(f"{ENV_PREFIX}TRANSPORT='stdio': this app serves HTTP"), ours
    assert "Traceback" not in result.stderr


def test_the_logging_settings_apply(start_stdio: StartStdio) -> None:
    """Over stdio the HTTP settings go unused, but LOG_LEVEL and LOG_FORMAT shape stderr."""
    process = start_stdio(*STDIO_ARGS, env=clean_environment(LOG_LEVEL="debug", LOG_FORMAT="json"))
    process.initialize()
    code, _, stderr = process.finish()
    assert code == 0, stderr
    records = [json.loads(line) for line in stderr.splitlines()]
    assert {"DEBUG", "INFO"} <= {record["level"] for record in records}, stderr
