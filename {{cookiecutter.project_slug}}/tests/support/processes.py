"""Child processes for tests that run the service as operators start it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

import psutil

import {{ cookiecutter.package_name }} as package
from {{ cookiecutter.package_name }} import SERVER_NAME
from {{ cookiecutter.package_name }}.runtime.settings import ENV_PREFIX

from . import credentials

# A bound on waiting, not a target: --workers N under coverage on a busy machine is slow to start.
STARTUP_TIMEOUT = 60.0
EXIT_TIMEOUT = 10.0

PACKAGE = package.__name__
MODULE = (sys.executable, "-m", PACKAGE)
CONSOLE_SCRIPT = Path(sys.executable).with_name(SERVER_NAME)
UVICORN = (sys.executable, "-m", "uvicorn", f"{PACKAGE}.app:app")
# On PYTHONPATH, the suite's ``sitecustomize`` (and the ``tests`` package it imports) give the
# servers these processes run the suite's tools (``tools.py``).
SUITE_TOOLS_PATH = [str(Path(__file__).with_name("site")), str(Path(__file__).parents[2])]
# For a child whose environment is otherwise minimal (the SDK's stdio client, as a desktop app
# starts the server).
SUITE_TOOLS_ENV = {"PYTHONPATH": os.pathsep.join(SUITE_TOOLS_PATH)}
# Where the processes run, unless a test says otherwise: a directory without a ``.env``, so
# that a developer's ``.env`` in the project never changes what a test sees.
NEUTRAL_CWD = Path(__file__).with_name("site")
# Each at the end of a text line, or of the message of a JSON line (LOG_FORMAT=json).
LISTENING = re.compile(
    r"listening on http://127\.0\.0\.1:(\d+)/mcp \(MCP SDK [^ ]+, stateless\)(?:\"\})?$"
)
STARTED = re.compile(r"Application startup complete\.(?:\"\})?$")
WORKERS_STARTED = re.compile(r"started \d+ workers, pids ([\d, ]+)$")


def untraced(env: dict[str, str]) -> dict[str, str]:
    """``env`` without what makes a child measure its coverage (``pytest --cov``), for tests
    that time the service: a line tracer makes every call several times slower."""
    return {name: value for name, value in env.items() if not name.startswith("COVERAGE_")}


def clean_environment(**settings: str) -> dict[str, str]:
    """This process's environment without any of the service's variables the developer may
    have exported, nor OpenTelemetry's (which turn traces on), plus ``settings``
    (``PORT="abc"`` and so on)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith((ENV_PREFIX, "OTEL_"))
    }
    inherited = [env["PYTHONPATH"]] if env.get("PYTHONPATH") else []
    env["PYTHONPATH"] = os.pathsep.join([*SUITE_TOOLS_PATH, *inherited])
    # The service refuses to start without the settings that check its clients, if it has any;
    # tests that need them unset pass an empty value or use ``without_credentials``.
    settings = {**credentials.environment(), **settings}
    env.update({ENV_PREFIX + name: value for name, value in settings.items()})
    return env


def without_credentials(env: dict[str, str]) -> dict[str, str]:
    """``env`` without the settings that check clients (``credentials.environment()``): what a
    service that serves no HTTP clients starts with."""
    names = {ENV_PREFIX + name for name in credentials.environment()}
    return {name: value for name, value in env.items() if name not in names}


class Process:
    """A child process whose stdout and stderr are collected, line by line, by two threads."""

    def __init__(
        self, args: Sequence[str | Path], env: dict[str, str], cwd: Path = NEUTRAL_CWD
    ) -> None:
        self.args = [str(arg) for arg in args]
        self.popen = subprocess.Popen(
            self.args,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._changed = threading.Condition()
        assert self.popen.stdout is not None
        assert self.popen.stderr is not None
        streams = ((self.popen.stdout, self.stdout), (self.popen.stderr, self.stderr))
        self._readers = [
            threading.Thread(target=self._drain, args=stream_and_lines, daemon=True)
            for stream_and_lines in streams
        ]
        for reader in self._readers:
            reader.start()

    def _drain(self, stream: IO[str], lines: list[str]) -> None:
        for line in stream:
            with self._changed:
                lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for_stderr(
        self, pattern: re.Pattern[str], timeout: float = STARTUP_TIMEOUT
    ) -> re.Match[str]:
        """The first stderr line matching ``pattern``; fails if the process exits first."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.stderr:
                    if found := pattern.search(line):
                        return found
                if self.popen.poll() is not None and not any(r.is_alive() for r in self._readers):
                    raise AssertionError(f"exited with {self.popen.returncode}:\n{self.output()}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no line matched {pattern.pattern!r}:\n{self.output()}")
                self._changed.wait(min(remaining, 0.1))

    def wait(self, timeout: float = EXIT_TIMEOUT) -> int:
        """The exit code, once the process has exited and its output is fully read."""
        code = self.popen.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=timeout)
        return code

    def stop(self) -> None:
        """Kill the process if it still runs; called by the ``launch`` fixture's teardown."""
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait(timeout=EXIT_TIMEOUT)
        for reader in self._readers:
            reader.join(timeout=EXIT_TIMEOUT)
        for stream in (self.popen.stdout, self.popen.stderr):
            if stream is not None:
                stream.close()

    def output(self) -> str:
        return "\n".join([f"$ {' '.join(self.args)}", *self.stderr, "-- stdout --", *self.stdout])


def run(
    *args: str | Path, env: dict[str, str] | None = None, cwd: Path = NEUTRAL_CWD
) -> subprocess.CompletedProcess[str]:
    """Run a command that is expected to exit by itself (``subprocess.run`` kills on timeout)."""
    return subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=clean_environment() if env is None else env,
        timeout=STARTUP_TIMEOUT,
        check=False,
    )


def service_port(process: Process) -> int:
    """The port the service reports in its first log line, once it accepts requests."""
    port = int(process.wait_for_stderr(LISTENING).group(1))
    process.wait_for_stderr(STARTED)
    return port


def start_workers(
    launch: Callable[..., Process], count: int, *flags: str, **settings: str
) -> tuple[Process, int, list[int]]:
    """``--workers count`` on a free port, with ``flags`` and ``settings``, once every worker
    serves: the process, its port and the workers' pids."""
    args = (*MODULE, "--port", "0", "--workers", str(count), *flags)
    process = launch(*args, env=clean_environment(**settings))
    port = int(process.wait_for_stderr(LISTENING).group(1))
    pids = [int(pid) for pid in process.wait_for_stderr(WORKERS_STARTED).group(1).split(", ")]
    wait_for_startups(process, count)
    return process, port, pids


def wait_for_startups(process: Process, count: int) -> None:
    """Return once ``count`` workers have started (each logs its startup once)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while sum(bool(STARTED.search(line)) for line in process.stderr) < count:
        assert time.monotonic() < deadline, process.output()
        time.sleep(0.05)


def serving_worker(workers: list[int], client_port: int) -> int | None:
    """The worker holding the connection from ``client_port``, if any does."""
    for pid in workers:
        for connection in psutil.Process(pid).net_connections(kind="tcp"):
            if connection.raddr and connection.raddr.port == client_port:
                return pid
    return None
