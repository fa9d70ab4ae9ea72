"""The service as operators start it: real processes, real sockets, real signals.

Three entry points must behave: the console script, ``python -m`` on the package and
``uvicorn`` on its ``app`` module.
What matters to an operator is checked here and nowhere else: the first log line says where
the service really listens, every stderr line is one formatted log record, a bad setting or a
busy port is one readable line and a non-zero exit (never a traceback), and SIGTERM (what
container runtimes send) stops the process promptly and cleanly.

What needs no process (help, version, a bad setting on the command line) is checked by calling
the command's ``main`` directly. Every process is started through the ``launch`` fixture (or
``run``), which kills whatever is still running when the test ends, and its output is drained
by background threads so a full pipe can never block the server.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }} import SERVER_NAME, __version__
from {{ cookiecutter.package_name }}.__main__ import main
from {{ cookiecutter.package_name }}.runtime.settings import ENV_PREFIX

from ..support.client import PROTOCOLS
from ..support.logs import LOG_LINE
from ..support.processes import (
    CONSOLE_SCRIPT,
    EXIT_TIMEOUT,
    LISTENING,
    MODULE,
    PACKAGE,
    UVICORN,
    Process,
    clean_environment,
    run,
    service_port,
)
from ..support.rpc import rpc_request, send
from ..support.servers import assert_serves_mcp

pytestmark = pytest.mark.quick  # the quick loop (README, Development)

UVICORN_RUNNING = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


def terminate(process: Process, signal_number: int = signal.SIGTERM) -> int:
    """SIGTERM, as a container runtime sends it (or SIGINT, as Ctrl-C does); the process must
    be gone within seconds."""
    process.popen.send_signal(signal_number)
    started = time.monotonic()
    code = process.wait(timeout=EXIT_TIMEOUT)
    assert time.monotonic() - started < EXIT_TIMEOUT
    return code


# uvicorn's own command re-raises SIGTERM once it has shut down cleanly, so it ends "killed by
# SIGTERM" (-15); the service's command turns a clean shutdown into exit 0.
UVICORN_CLEAN_STOP_CODES = (0, -signal.SIGTERM)


@pytest.mark.process
@pytest.mark.parametrize(
    ("command", "stop"),
    [(MODULE, signal.SIGINT), ((CONSOLE_SCRIPT,), signal.SIGTERM)],
    ids=["python-m-sigint", "console-script-sigterm"],
)
def test_serves_on_a_free_port_logs_one_line_per_record_and_stops_cleanly_on_a_signal(
    launch: Callable[..., Process], command: tuple[str | Path, ...], stop: signal.Signals
) -> None:
    """Either command serves; SIGTERM (a container runtime) or SIGINT (Ctrl-C) stops it with
    exit 0 and no traceback."""
    process = launch(*command, "--port", "0")
    port = int(process.wait_for_stderr(LISTENING).group(1))
    assert port > 0
    # The socket is bound before anything is logged, so the very first line is the real address.
    assert LISTENING.search(process.stderr[0]), process.output()
    first_line = f" INFO {PACKAGE}.runtime.serving.cli: {SERVER_NAME} {__version__} listening on "
    assert first_line in process.stderr[0]

    process.wait_for_stderr(re.compile(r"Application startup complete\.$"))
    assert_serves_mcp(f"http://127.0.0.1:{port}")

    code = terminate(process, stop)
    assert code == 0, process.output()
    assert "Traceback" not in "\n".join(process.stderr), process.output()
    assert process.stderr[-1].endswith(f"Finished server process [{process.popen.pid}]")
    assert [line for line in process.stderr if not LOG_LINE.match(line)] == [], process.output()
    assert process.stdout == [], process.output()


@pytest.mark.process
def test_uvicorn_entry_point_serves_the_app_from_the_environment(
    launch: Callable[..., Process],
) -> None:
    """``uvicorn pkg.app:app`` builds the app from the environment on first access."""
    process = launch(*UVICORN, "--port", "0", env=clean_environment(JSON_RESPONSE="true"))
    port = int(process.wait_for_stderr(UVICORN_RUNNING).group(1))
    assert port > 0
    base_url = f"http://127.0.0.1:{port}"
    assert_serves_mcp(base_url)
    # The environment was read: JSON_RESPONSE=true answers with plain JSON instead of SSE.
    answer = send(f"{base_url}/mcp", *rpc_request("tools/list", {}, protocol=PROTOCOLS[0]))
    assert answer.headers["content-type"].startswith("application/json"), answer

    code = terminate(process)
    assert code in UVICORN_CLEAN_STOP_CODES, process.output()
    assert "Traceback" not in "\n".join(process.stderr), process.output()


def test_help_describes_the_flags_and_the_environment(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"usage: {SERVER_NAME} ")
    for flag in ("--host", "--port", "--log-level", "--workers", "--transport", "--version"):
        assert flag in out
    assert f"{ENV_PREFIX}*" in out
    assert err == ""


def test_version_prints_name_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"{SERVER_NAME} {__version__}"


def test_an_out_of_range_port_flag_is_one_line_naming_the_flag(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--port", "70000"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{SERVER_NAME}: error: invalid setting --port=70000: "
        "Input should be less than or equal to 65535"
    ]


def test_an_invalid_environment_value_is_one_line_naming_the_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(f"{ENV_PREFIX}PORT", "abc")
    assert main([]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"{SERVER_NAME}: error: invalid setting {ENV_PREFIX}PORT='abc': ")


def test_the_transport_is_a_flag_and_a_setting(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "--transport {http,stdio}" in capsys.readouterr().out
    monkeypatch.setenv(f"{ENV_PREFIX}TRANSPORT", "carrier-pigeon")
    assert main([]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"{SERVER_NAME}: error: invalid setting ")
    assert f"{ENV_PREFIX}TRANSPORT='carrier-pigeon'" in line


@pytest.mark.process
def test_under_uvicorn_an_invalid_environment_value_is_one_line_and_a_failure() -> None:
    """The uvicorn entry point reads the environment when uvicorn starts it, and fails the start
    with one line naming the variable, between uvicorn's own lines about its start and exit."""
    result = run(*UVICORN, "--port", "0", env=clean_environment(PORT="abc"))
    assert result.returncode != 0
    ours = [line for line in result.stderr.splitlines() if "invalid setting" in line]
    assert len(ours) == 1, result.stderr
    assert f"{SERVER_NAME}: error: invalid setting {ENV_PREFIX}PORT='abc': " in ours[0]
    assert "Application startup failed" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.process
def test_a_port_in_use_is_one_clear_line_and_exit_1() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run(*MODULE, "--port", str(port))
    assert result.returncode == 1, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"{SERVER_NAME}: error: cannot listen on 127.0.0.1:{port}: ")
    assert "Traceback" not in result.stderr


@pytest.mark.process
def test_the_service_reads_env_in_its_working_directory(
    launch: Callable[..., Process], tmp_path: Path
) -> None:
    """As the README says: ``.env`` where the service starts, under the environment."""
    (tmp_path / ".env").write_text(f"{ENV_PREFIX}LOG_FORMAT=json\n", encoding="utf-8")
    process = launch(*MODULE, "--port", "0", cwd=tmp_path)
    service_port(process)
    assert "listening on" in json.loads(process.stderr[0])["message"], process.output()
