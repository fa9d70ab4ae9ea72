"""A real Redis for the subscription tests: ``redis-server`` (Debian's package of that name) on a
free port of 127.0.0.1, in the test's temporary directory, persisting nothing.

Without ``redis-server`` the tests that need one skip and say how to get it; under ``CI=true``
they fail instead, as CI must run them.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

STARTUP_TIMEOUT = 10.0
IN_CI = os.environ.get("CI", "").lower() in {"true", "1"}


def redis_server() -> str:
    """The ``redis-server`` command, or the test skips (fails under CI) saying how to get it."""
    found = shutil.which("redis-server")
    if found is None:
        reason = "redis-server not found"
        how = "install Debian's redis-server package (apt-get install redis-server)"
        if IN_CI:
            pytest.fail(f"{reason}; CI=true, so this test must run ({how})")
        pytest.skip(f"{reason}; {how}")
    return found


def free_port() -> int:
    """A port nothing listens on now (redis-server cannot pick one itself)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Broker:
    """One redis-server, which a test may stop and start again on the same port."""

    def __init__(self, command: str, directory: Path) -> None:
        self.command = command
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it and return once it answers PING."""
        args = [self.command, "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--appendonly", "no", "--dir", str(self.directory)]
        log = (self.directory / "redis.log").open("ab")
        with log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                log_text = (self.directory / "redis.log").read_text("utf-8", errors="replace")
                raise AssertionError(f"redis-server did not start on {self.port}:\n{log_text}")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop it (SIGTERM) and wait until it has exited."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
            self.process.wait(timeout=STARTUP_TIMEOUT)
            self.process = None

    def pause(self) -> None:
        """Stop its process (SIGSTOP): its connections stay open, and nothing answers on them."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def publish(self, channel: str, message: bytes) -> None:
        """Publish ``message`` on ``channel`` as any other Redis client might."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            parts = [b"PUBLISH", channel.encode(), message]
            command = b"*3\r\n" + b"".join(b"$%d\r\n%s\r\n" % (len(part), part) for part in parts)
            sock.sendall(command)
            assert sock.recv(64).startswith(b":"), "PUBLISH got no count of receivers"


@contextmanager
def running_broker(directory: Path) -> Iterator[Broker]:
    """A started ``Broker``, stopped when the block ends."""
    broker = Broker(redis_server(), directory)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
