"""Replicas of a bake behind a real nginx configured from the bake's own ``deploy/nginx.conf``.

For the scale tests (``tests/test_scale.py``) and the chaos run (``chaos.py``). Each replica
is started as the bake's ``docs/scaling-out.md`` starts one (``my-mcp-server --port P`` with
``ALLOWED_HOSTS`` naming the proxy's ``Host``), on a free loopback port; nginx runs in the
foreground with the shipped config included as shipped: only its replica addresses, listening
port and access log path are rewritten, and ``ClusterError`` says so if those lines moved.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from _support import clean_env, expect_success, run

PREFIX = "MY_MCP_SERVER_"
COMMAND = "my-mcp-server"
# The name clients use for the service; the replicas allow it, nginx passes it on as Host.
PUBLIC_HOST = "mcp.example.test"
PROTOCOL = "2025-06-18"
ADD = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "add", "arguments": {"a": 2, "b": 3}},
    }
).encode()
READY_TIMEOUT = 60.0  # a loaded two-core machine takes seconds to import the SDK
EXIT_TIMEOUT = 30.0

# The lines of deploy/nginx.conf that are rewritten: everything else is used as shipped.
UPSTREAM_SERVER = re.compile(r"^(\s*server )127\.0\.0\.1:\d+( .*;)$", re.MULTILINE)
LISTEN = re.compile(r"^(\s*listen )8080;$", re.MULTILINE)
ACCESS_LOG = re.compile(r"^(\s*access_log )\S+( \w+;)$", re.MULTILINE)
FAIL_TIMEOUT_PARAMETER = re.compile(r" fail_timeout=(\d+)s;$", re.MULTILINE)
LOGGED_UPSTREAM = re.compile(r" upstream=127\.0\.0\.1:(\d+) ")


class ClusterError(RuntimeError):
    """A replica or nginx would not start or stop as it should; the message has its output."""


def nginx_binary() -> str | None:
    """nginx, on PATH or where Debian puts it."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")


def free_port() -> int:
    """Return a loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def healthy(port: int) -> bool:
    """Tell whether something on ``port`` answers ``GET /healthz`` with 200."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def install(project: Path) -> None:
    """Install the bake at ``project`` into a uv venv of its own, ``.venv``."""
    venv = project / ".venv"
    env = clean_env({"VIRTUAL_ENV": str(venv)})
    uv = [sys.executable, "-m", "uv"]
    expect_success(run([*uv, "venv", "--quiet", "--python", sys.executable], project, env))
    python = str(venv / "bin" / "python")
    expect_success(run([*uv, "pip", "install", "--quiet", "--python", python, "."], project, env))


@dataclass
class Replica:
    """One ``my-mcp-server --port P`` process; its output, over restarts, in one log file."""

    venv_bin: Path
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None
    # More settings, as variables without the prefix, and more arguments.
    settings: dict[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ()

    def start(self) -> None:
        """Start it as the docs do, and return once ``/healthz`` answers."""
        settings = {"ALLOWED_HOSTS": PUBLIC_HOST, **self.settings}
        env = clean_env({PREFIX + name: value for name, value in settings.items()})
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                [str(self.venv_bin / COMMAND), "--port", str(self.port), *self.args],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + READY_TIMEOUT
        while not healthy(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise ClusterError(f"replica on {self.port} did not start:\n{self.tail()}")
            time.sleep(0.05)

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        """Send ``sig`` and return the exit code (SIGKILL if it outlives EXIT_TIMEOUT)."""
        assert self.process is not None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise ClusterError(
                f"replica on {self.port} ignored {sig.name}:\n{self.tail()}"
            ) from None

    def kill(self) -> None:
        """SIGKILL it, if it runs."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def output(self) -> str:
        """Everything the replica wrote, over all its runs."""
        return self.log.read_text("utf-8", errors="replace")

    def tail(self, lines: int = 30) -> str:
        """Return the last ``lines`` lines the replica wrote."""
        return "\n".join(self.output().splitlines()[-lines:])


def render_nginx(shipped: str, replicas: list[int], listen: int, access_log: Path) -> str:
    """Rewrite the shipped config for this run; fail if a rewritten line has moved.

    The upstream's first lines get the replicas' ports; lines beyond their number are dropped.
    """
    ports = iter(replicas)
    servers = len(UPSTREAM_SERVER.findall(shipped))
    if servers < len(replicas):
        raise ClusterError(f"deploy/nginx.conf has {servers} upstream servers")

    def upstream_server(line: re.Match[str]) -> str:
        port = next(ports, None)
        return "" if port is None else f"{line[1]}127.0.0.1:{port}{line[2]}"

    text = UPSTREAM_SERVER.sub(upstream_server, shipped)
    text, listens = LISTEN.subn(rf"\g<1>127.0.0.1:{listen};", text)
    text, logs = ACCESS_LOG.subn(lambda m: f"{m[1]}{access_log}{m[2]}", text)
    if (listens, logs) != (1, 1):
        raise ClusterError("deploy/nginx.conf: listen or access_log line moved")
    return text


def nginx_main_config(workdir: Path, include: Path) -> str:
    """Write a main config for a foreground nginx whose every path is in ``workdir``."""
    temp = "\n".join(
        f"    {kind}_temp_path {workdir / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # As root, nginx's workers would run as nobody, who cannot enter pytest's 0700 temp dirs.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}daemon off;\nworker_processes 1;\npid {workdir / 'nginx.pid'};\n"
        f"error_log {workdir / 'error.log'} notice;\n"
        "events { worker_connections 4096; }\n"
        f"http {{\n{temp}\n    include {include};\n}}\n"
    )


@dataclass
class Cluster:
    """Replicas behind one nginx, and what nginx logged."""

    replicas: list[Replica]
    proxy_port: int
    access_log: Path
    nginx: subprocess.Popen[bytes]
    error_log: Path
    fail_timeout: float

    def upstream_counts(self) -> Counter[int]:
        """How many requests nginx logged per replica port so far."""
        text = self.access_log.read_text("utf-8")
        return Counter(int(port) for port in LOGGED_UPSTREAM.findall(text))


@contextmanager
def behind_nginx(replicas: list[Replica], project: Path, workdir: Path) -> Iterator[Cluster]:
    """Start ``replicas`` and nginx in front of them; stop them all afterwards, come what may."""
    nginx_bin = nginx_binary()
    if nginx_bin is None:
        raise ClusterError("no nginx")
    proxy_port = free_port()
    access_log = workdir / "access.log"
    include = workdir / "service.conf"
    shipped = (project / "deploy" / "nginx.conf").read_text("utf-8")
    include.write_text(
        render_nginx(shipped, [replica.port for replica in replicas], proxy_port, access_log),
        encoding="utf-8",
    )
    main = workdir / "nginx.conf"
    main.write_text(nginx_main_config(workdir, include), encoding="utf-8")
    error_log = workdir / "error.log"
    check = run(
        [nginx_bin, "-t", "-p", str(workdir), "-e", str(error_log), "-c", str(main)], workdir
    )
    expect_success(check)
    nginx: subprocess.Popen[bytes] | None = None
    try:
        for replica in replicas:
            replica.start()
        nginx = subprocess.Popen(
            [nginx_bin, "-p", str(workdir), "-e", str(error_log), "-c", str(main)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + READY_TIMEOUT
        while not healthy(proxy_port):
            if nginx.poll() is not None or time.monotonic() > deadline:
                raise ClusterError(f"nginx did not start:\n{error_log.read_text('utf-8')}")
            time.sleep(0.05)
        (fail_timeout,) = set(FAIL_TIMEOUT_PARAMETER.findall(shipped))
        yield Cluster(replicas, proxy_port, access_log, nginx, error_log, float(fail_timeout))
    finally:
        if nginx is not None:
            nginx.terminate()  # nginx's fast shutdown
            nginx.wait(timeout=EXIT_TIMEOUT)
        for replica in replicas:
            replica.kill()


def call_add(
    connection: http.client.HTTPConnection, host: str = PUBLIC_HOST, request_id: str = ""
) -> int:
    """POST tools/call add; the status, after checking a 200's result (AssertionError if wrong).

    With ``request_id``, it goes as ``X-Request-ID``: nginx's access log and the replica's
    access line then name the call.
    """
    headers = {
        "Host": host,
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": PROTOCOL,
    }
    if request_id:
        headers["X-Request-ID"] = request_id
    connection.request("POST", "/mcp", ADD, headers)
    response = connection.getresponse()
    body = response.read().decode("utf-8", errors="replace")
    if response.status == 200:
        data = [line[5:] for line in body.splitlines() if line.startswith("data:")]
        answer = json.loads(data[-1] if data else body)
        assert answer["result"]["structuredContent"] == {"result": 5.0}, body
    return response.status
