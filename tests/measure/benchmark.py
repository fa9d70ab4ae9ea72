"""Benchmark: the bake, as its README starts it, against what a team would run instead.

    .venv/bin/python tests/measure/benchmark.py                  # both SDK lines
    .venv/bin/python tests/measure/benchmark.py --lines 2.x --duration 5 --rounds 6

For each SDK line it bakes the template and installs the bake into a fresh uv venv, then
measures, in one interleaved run, the servers a team could pick for the same tool:

* the bake, started as its README starts it (``my-mcp-server``), by default and with
  ``*_JSON_RESPONSE`` forcing each kind of answer (``true``: JSON, ``false``: SSE);
* the bare SDK of the same line, in both of its modes: its high-level server with the bake's
  tools, its stateless streamable-HTTP app served by ``uvicorn bare_json:app`` (or
  ``bare_sse:app``) with uvicorn's defaults;
* the official TypeScript SDK's stateless server in both of its modes, as its own example
  writes it (``tests/peers/ts_server.mjs``, Express, a server and transport per request);
* standalone FastMCP (``tests/peers/fastmcp_server.py``, stateless, its default answers);
* the stack's ceiling: a raw ASGI app on the same uvicorn and h11 that reads the JSON-RPC
  request and answers what the bake answers, with no MCP machinery at all.

Each logs to a file, as in production. Requests: ``tools/call add`` as today's clients send
it (MCP 2025-11-25) with no progress token; the same with one (the call can then get progress
notifications, so it is answered as an SSE stream); and, on the 2.x line, as an MCP 2026-07-28
client sends it.

Throughput: wrk (Debian's ``wrk`` package) sends the request over kept-alive connections. wrk
is a C load generator: on a two-core machine a Python client would take as much CPU as the
server it measures, while wrk's share is small and the same for every server, and it reports
latency percentiles itself. With two cores or more, each server runs pinned to one core and
wrk to another (``taskset``). Runs of the servers alternate, round after round, in an order
that turns each round, so a machine that gets busier or quieter affects all alike. Server CPU
comes from ``/proc`` (user + system time of the server process, all its threads): requests per
CPU-second is the figure that a busy shared machine disturbs least.

Storm: 2,000 requests cut short mid-body (a large ``Content-Length``, half the body, then a
reset) from 32 threads, twice, against a fresh bake and bare SDK (SSE mode): ERROR lines and
tracebacks logged; resident memory fresh, at each storm's peak and a second after it (the
first storm sets a high-water mark, the second shows whether a storm leaves anything behind);
and the work-off time (from the end of the storm until the server's CPU goes idle).

Traces (``--traces``): the bake (SSE mode) against the same bake exporting its spans over
OTLP/HTTP (``OTEL_EXPORTER_OTLP_ENDPOINT``) to a stand-in collector in this process, which
reads each batch and answers 200; runs alternate as above. The bake without the variable has
nothing of tracing loaded: its figures against the bare SDK's in the first table are the cost
of no exporter.

Needs wrk, taskset, node and npm (the TypeScript SDK is installed from npm into a cache
directory, ``MCP_TEMPLATE_NPM_CACHE`` or ``~/.cache/mcp-template-npm``; FastMCP from PyPI into
a venv of its own). Prints Markdown tables; the template README shows the latest. Figures,
not assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# Run as a script from tests/measure/: the template's helpers are one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _support import bake_and_install, clean_env, python_module, run

PACKAGE = "my_mcp_server"
COMMAND = "my-mcp-server"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
PEERS = Path(__file__).resolve().parents[1] / "peers"
# The peers' versions: the TypeScript SDK as tests/test_clients.py pins it.
TS_SDK = "1.32.2"
FASTMCP = "4.2.3"
NPM_CACHE = Path(
    os.environ.get("MCP_TEMPLATE_NPM_CACHE", Path.home() / ".cache" / "mcp-template-npm")
)
# The server's core and wrk's, when there are two or more.
SERVER_CPU, WRK_CPU = "0", "1"

BARE_APP = {
    "2.x": """
from mcp.server.mcpserver import MCPServer
from {package}.tools import register_tools

server = MCPServer(name="bare")
register_tools(server)
app = server.streamable_http_app(stateless_http=True, json_response={json_response})
""",
    "1.x": """
from mcp.server.fastmcp import FastMCP
from {package}.tools import register_tools

server = FastMCP("bare", stateless_http=True, json_response={json_response})
register_tools(server)
app = server.streamable_http_app()
""",
}

# The stack's ceiling: uvicorn and h11 carrying a JSON-RPC call, and nothing else.
CEILING_APP = '''
import json


async def app(scope, receive, send):
    """Answer every request with the result the bake gives ``tools/call add``."""
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    request = json.loads(body) if body else {}
    arguments = request.get("params", {}).get("arguments", {})
    total = float(arguments.get("a", 0)) + float(arguments.get("b", 0))
    result = {
        "content": [{"type": "text", "text": str(total)}],
        "structuredContent": {"result": total},
        "isError": False,
    }
    answer = json.dumps({"jsonrpc": "2.0", "id": request.get("id"), "result": result}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(answer))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": answer})
'''

ADD = {"name": "add", "arguments": {"a": 2, "b": 3}}
HANDSHAKE_ERA = "2025-11-25"
STATELESS = "2026-07-28"


@dataclass(frozen=True)
class Request:
    """One kind of request the load generator sends: its headers and body."""

    name: str
    protocol: str
    progress: bool = False

    @property
    def body(self) -> dict[str, object]:
        """Return the JSON-RPC request, with the ``_meta`` its revision and progress need."""
        params: dict[str, object] = dict(ADD)
        meta: dict[str, object] = {}
        if self.progress:
            meta["progressToken"] = 1
        if self.protocol == STATELESS:
            meta["io.modelcontextprotocol/protocolVersion"] = STATELESS
            meta["io.modelcontextprotocol/clientCapabilities"] = {}
        if meta:
            params["_meta"] = meta
        return {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}

    @property
    def headers(self) -> dict[str, str]:
        """Return the HTTP headers a client of the revision sends."""
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": self.protocol,
        }
        if self.protocol == STATELESS:
            headers |= {"Mcp-Method": "tools/call", "Mcp-Name": "add"}
        return headers

    def wrk_script(self) -> str:
        """Return the Lua script that makes wrk send this request."""
        lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(json.dumps(self.body))}"]
        lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in self.headers.items()]
        return "\n".join(lines) + "\n"


PLAIN = Request(f"{HANDSHAKE_ERA}, no progress", HANDSHAKE_ERA)
WITH_PROGRESS = Request(f"{HANDSHAKE_ERA}, progress token", HANDSHAKE_ERA, progress=True)
PLAIN_2026 = Request(f"{STATELESS}, no progress", STATELESS)

# The names of the servers in the tables, and the two the others are compared with.
BAKE = "bake (default)"
BAKE_JSON = "bake, JSON_RESPONSE=true"
BAKE_SSE = "bake, JSON_RESPONSE=false"
BARE_JSON = "bare SDK, JSON"
BARE_SSE = "bare SDK, SSE (default)"
TS_JSON = "TypeScript SDK, JSON"
TS_SSE = "TypeScript SDK, SSE (default)"
FASTMCP_SSE = "FastMCP (default)"
CEILING = "ceiling: raw ASGI on uvicorn"
BASELINES = (TS_JSON, BARE_SSE)


@dataclass(frozen=True)
class Kind:
    """A server to measure: its name in the tables and how it starts (``{port}`` filled in)."""

    name: str
    args: tuple[str, ...]
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Server:
    """A server process of one kind, with its log file."""

    kind: Kind
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def cpu_seconds(self) -> float:
        """User and system time the server process has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def rss_mib(self) -> float:
        """Resident memory now."""
        pages = int(Path(f"/proc/{self.process.pid}/statm").read_text().split()[1])
        return pages * PAGE_SIZE / 2**20

    def errors(self) -> tuple[int, int]:
        """Return the ERROR lines and the tracebacks logged.

        The bare SDK's records reach stderr through logging's last-resort handler, which writes
        no level name: its tracebacks tell.
        """
        lines = self.log.read_text().splitlines()
        return (
            sum(" ERROR " in line for line in lines),
            sum(line.startswith("Traceback (most recent call last)") for line in lines),
        )


@dataclass
class Runs:
    """What wrk measured over the rounds for one server and one request."""

    requests: int = 0
    seconds: float = 0.0
    cpu: float = 0.0
    failed: int = 0
    p50: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        """Requests answered per second of wall-clock time."""
        return self.requests / self.seconds

    @property
    def per_cpu_second(self) -> float:
        """Requests answered per second of the server's CPU time."""
        return self.requests / self.cpu


def pinned(cpu: str) -> list[str]:
    """Return the prefix that runs a command on ``cpu`` alone, given two cores or more."""
    return ["taskset", "-c", cpu] if (os.cpu_count() or 1) >= 2 else []


def free_port() -> int:
    """Return a port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_serving(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    """Return once the server answers HTTP; stop the benchmark if it exits first."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
                if sock.recv(100):
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server did not start:\n{log.read_text()}")


@contextmanager
def serving(kind: Kind, logs: Path) -> Iterator[Server]:
    """Start a server of ``kind`` on a free port, pinned to the server's core."""
    port = free_port()
    args = [arg.format(port=port) for arg in kind.args]
    env = {name: value for name, value in clean_env().items() if not name.startswith("OTEL_")}
    env.update(kind.env)
    slug = re.sub(r"[^a-z0-9]+", "-", kind.name.lower()).strip("-")
    log = logs / f"{slug}-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*pinned(SERVER_CPU), *args],
            cwd=kind.cwd,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_serving(port, process, log)
        yield Server(kind, process, port, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


ANSWER = re.compile(r'"structuredContent":\{"result":5(\.0)?\}')


def check_answer(server: Server, request: Request) -> None:
    """One call, checked, so that the load measures correct answers."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("POST", "/mcp", json.dumps(request.body), request.headers)
    response = connection.getresponse()
    text = response.read().decode()
    connection.close()
    if response.status != 200 or not ANSWER.search(text.replace(" ", "")):
        raise SystemExit(
            f"{server.kind.name}, {request.name}: unexpected answer {response.status} {text!r}"
        )


def wrk(server: Server, script: Path, seconds: float, connections: int) -> Runs:
    """Drive ``server`` with wrk for ``seconds``; what it answered and what that cost."""
    before = server.cpu_seconds()
    started = time.monotonic()
    result = subprocess.run(
        [
            *pinned(WRK_CPU),
            "wrk",
            "--latency",
            "-t1",
            f"-c{connections}",
            f"-d{seconds:g}s",
            "-s",
            str(script),
            f"http://127.0.0.1:{server.port}/mcp",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.monotonic() - started
    out = result.stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    runs = Runs(
        requests=requests,
        seconds=elapsed,
        cpu=server.cpu_seconds() - before,
        failed=(int(failed.group(1)) if failed else 0)
        + (sum(int(n) for n in errors.groups()) if errors else 0),
    )
    runs.p50.append(latency_ms(out, "50%"))
    runs.p99.append(latency_ms(out, "99%"))
    return runs


def latency_ms(out: str, percentile: str) -> float:
    """Read one percentile of wrk's latency distribution, in milliseconds."""
    found = re.search(rf"^\s+{percentile}\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    if found is None:
        raise SystemExit(f"no {percentile} latency in wrk's output:\n{out}")
    value, unit = found.groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def add(total: Runs, one: Runs) -> None:
    """Add one run to the totals of its server and request."""
    total.requests += one.requests
    total.seconds += one.seconds
    total.cpu += one.cpu
    total.failed += one.failed
    total.p50 += one.p50
    total.p99 += one.p99


@dataclass(frozen=True)
class Line:
    """One SDK line's bake, installed, and the servers to measure beside it."""

    line: str
    mcp: str
    project: Path
    kinds: tuple[Kind, ...]
    # Which servers take each request (the others answer it as well, but are not measured).
    plan: dict[Request, tuple[str, ...]]


def throughput(line: Line, args: argparse.Namespace) -> dict[Request, dict[str, Runs]]:
    """Alternate wrk runs over every server and request of ``line``; the totals of each."""
    scripts = {}
    for index, request in enumerate(line.plan):
        scripts[request] = line.project / f"request-{index}.lua"
        scripts[request].write_text(request.wrk_script(), encoding="utf-8")
    totals = {request: {name: Runs() for name in names} for request, names in line.plan.items()}
    with ExitStack() as stack:
        servers = {
            kind.name: stack.enter_context(serving(kind, line.project)) for kind in line.kinds
        }
        for request, names in line.plan.items():
            for name in names:
                check_answer(servers[name], request)
                wrk(servers[name], scripts[request], 1, args.connections)  # warm-up, not counted
        runs = [(request, name) for request, names in line.plan.items() for name in names]
        for round_ in range(args.rounds):
            # Each round starts one run later than the last, and every other one goes backwards.
            shift = round_ % len(runs)
            order = runs[shift:] + runs[:shift]
            for request, name in order if round_ % 2 == 0 else reversed(order):
                measured = wrk(servers[name], scripts[request], args.duration, args.connections)
                add(totals[request][name], measured)
    return totals


class Collector:
    """A stand-in OTLP/HTTP collector: reads every batch and answers 200, counting them."""

    def __init__(self) -> None:
        """Bind a free port on 127.0.0.1; ``thread`` serves it once started."""
        self.batches = 0
        self.bytes = 0
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                collector.batches += 1
                collector.bytes += len(body)
                self.send_response(200)  # an empty ExportTraceServiceResponse is no bytes
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        """What ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set to for the service to send here."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"


def traces(line: Line, args: argparse.Namespace) -> tuple[Runs, Runs, Collector]:
    """Alternate wrk runs against the bake without and with an OTLP exporter (SSE mode)."""
    script = line.project / "traces.lua"
    script.write_text(PLAIN.wrk_script(), encoding="utf-8")
    totals = {"off": Runs(), "on": Runs()}
    collector = Collector()
    collector.thread.start()
    (sse,) = [kind for kind in line.kinds if kind.name == BAKE_SSE]
    exporting = Kind(
        sse.name, sse.args, sse.cwd, {**sse.env, "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint}
    )
    try:
        with serving(sse, line.project) as off, serving(exporting, line.project) as on:
            servers = {"off": off, "on": on}
            for server in servers.values():
                check_answer(server, PLAIN)
                wrk(server, script, 1, args.connections)  # warm-up, not counted
            for round_ in range(args.rounds):
                order = ("off", "on") if round_ % 2 == 0 else ("on", "off")
                for kind in order:
                    add(totals[kind], wrk(servers[kind], script, args.duration, args.connections))
    finally:
        collector.server.shutdown()
        collector.server.server_close()
    return totals["off"], totals["on"], collector


def traces_row(line: Line, off: Runs, on: Runs, collector: Collector) -> str:
    """Return one row of the traces table."""
    cells = [
        f"{line.line} (mcp {line.mcp})",
        f"{off.per_second:,.0f}",
        f"{on.per_second:,.0f}",
        f"{on.per_second / off.per_second:.2f}",
        f"{off.per_cpu_second:,.0f}",
        f"{on.per_cpu_second:,.0f}",
        f"{on.per_cpu_second / off.per_cpu_second:.2f}",
        f"{statistics.median(off.p50):.1f} / {statistics.median(off.p99):.1f}",
        f"{statistics.median(on.p50):.1f} / {statistics.median(on.p99):.1f}",
        f"{collector.batches} / {collector.bytes / 2**20:.1f}",
        f"{off.failed} / {on.failed}",
    ]
    return "| " + " | ".join(cells) + " |"


def cut_short(port: int, count: int) -> None:
    """Send ``count`` requests that stop half-way through their body, then reset."""
    body = json.dumps(PLAIN.body).encode()
    head = (
        f"POST /mcp HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n"
        f"accept: application/json, text/event-stream\r\nmcp-protocol-version: {HANDSHAKE_ERA}\r\n"
        "content-length: 10000\r\n\r\n"
    ).encode()
    for _ in range(count):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(head + body[: len(body) // 2])
                sock.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
        except OSError:
            pass


def run_storm(port: int, requests: int) -> None:
    """Cut ``requests`` short from 32 threads at once."""
    threads = [threading.Thread(target=cut_short, args=(port, requests // 32)) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@dataclass
class StormFigures:
    """What one storm did to a server: memory at its peak and a second after, work-off time."""

    peak: float
    settled: float
    work_off: float


def storm_once(server: Server, requests: int) -> StormFigures:
    """Cut ``requests`` short against ``server`` while sampling its memory."""
    peak = server.rss_mib()
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, server.rss_mib())
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    run_storm(server.port, requests)
    storm_over = time.monotonic()
    # Worked off when the server's CPU time stops moving for 0.3 s.
    last, idle_since = server.cpu_seconds(), time.monotonic()
    while time.monotonic() - idle_since < 0.3 and time.monotonic() - storm_over < 60:
        time.sleep(0.05)
        now = server.cpu_seconds()
        if now != last:
            last, idle_since = now, time.monotonic()
    check_answer(server, PLAIN)
    time.sleep(1)
    done.set()
    sampler.join()
    return StormFigures(peak, server.rss_mib(), max(idle_since - storm_over, 0.0))


def storm(kind: Kind, logs: Path, requests: int) -> dict[str, float]:
    """Two storms against a fresh server of ``kind``: what it logged and what memory it held.

    The first storm raises memory to a high-water mark (connections accepted in a burst); the
    second, identical one shows whether a storm leaves anything behind.
    """
    with serving(kind, logs) as server:
        check_answer(server, PLAIN)
        time.sleep(0.5)
        fresh = server.rss_mib()
        first = storm_once(server, requests)
        second = storm_once(server, requests)
        errors, tracebacks = server.errors()
        return {
            "errors": errors,
            "tracebacks": tracebacks,
            "fresh": fresh,
            "first_peak": first.peak,
            "first_settled": first.settled,
            "second_peak": second.peak,
            "second_settled": second.settled,
            "work_off": first.work_off,
        }


def installed_version(python: Path, distribution: str) -> str:
    """Return the version of ``distribution`` installed for ``python``."""
    code = f"import importlib.metadata as m; print(m.version({distribution!r}))"
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    return result.stdout.strip()


@dataclass(frozen=True)
class Peers:
    """The servers that do not depend on the SDK line: installed once, started per line."""

    node: Path
    ts_root: Path
    fastmcp_venv: Path
    versions: str

    def kinds(self, project: Path) -> tuple[Kind, ...]:
        """Return the peers as servers to start, logging beside ``project``."""
        node = (str(self.node), "ts_server.mjs", "{port}")
        uvicorn = str(self.fastmcp_venv / "bin" / "uvicorn")
        return (
            Kind(TS_JSON, (*node, "json"), self.ts_root),
            Kind(TS_SSE, (*node, "sse"), self.ts_root),
            Kind(FASTMCP_SSE, (uvicorn, "fastmcp_server:app", "--port", "{port}"), PEERS),
        )


def install_peers(workdir: Path) -> Peers:
    """Install the TypeScript SDK (npm, cached) and FastMCP (PyPI, a venv of its own)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise SystemExit("benchmark.py needs node and npm for the TypeScript SDK's server")
    ts_root = NPM_CACHE / f"benchmark-sdk-{TS_SDK}"
    ts_root.mkdir(parents=True, exist_ok=True)
    if not (ts_root / "installed").exists():
        command = [npm, "install", "--prefix", str(ts_root), "--no-audit", "--no-fund"]
        result = run([*command, f"@modelcontextprotocol/sdk@{TS_SDK}"], cwd=ts_root)
        if result.returncode != 0:
            raise SystemExit(result.describe())
        (ts_root / "installed").write_text(TS_SDK + "\n")
    # ESM resolves imports beside the script: it runs from the directory the SDK is in.
    shutil.copy(PEERS / "ts_server.mjs", ts_root / "ts_server.mjs")
    venv = workdir / "fastmcp-venv"
    python = venv / "bin" / "python"
    for command in (
        python_module("uv", "venv", "--quiet", "--python", sys.executable, str(venv)),
        python_module(
            "uv", "pip", "install", "--quiet", "--python", str(python), f"fastmcp=={FASTMCP}"
        ),
    ):
        result = run(command, cwd=workdir)
        if result.returncode != 0:
            raise SystemExit(result.describe())
    node_version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout
    versions = (
        f"TypeScript SDK {TS_SDK} on Node {node_version.strip().lstrip('v')}, FastMCP "
        f"{installed_version(python, 'fastmcp')} (mcp {installed_version(python, 'mcp')})"
    )
    return Peers(Path(node), ts_root, venv, versions)


def prepare(line: str, workdir: Path, peers: Peers) -> Line:
    """Bake ``line``, install it with uv into its own venv, and plan what to measure."""
    project = bake_and_install(workdir, line)
    venv_bin = project / ".venv" / "bin"
    for mode, json_response in (("sse", False), ("json", True)):
        source = BARE_APP[line].format(package=PACKAGE, json_response=json_response)
        (project / f"bare_{mode}.py").write_text(source, encoding="utf-8")
    (project / "ceiling.py").write_text(CEILING_APP, encoding="utf-8")
    bake = (str(venv_bin / COMMAND), "--port", "{port}")
    uvicorn = str(venv_bin / "uvicorn")
    setting = f"{PACKAGE.upper()}_JSON_RESPONSE"
    kinds = (
        Kind(BAKE, bake, project),
        Kind(BAKE_JSON, bake, project, {setting: "true"}),
        Kind(BAKE_SSE, bake, project, {setting: "false"}),
        Kind(BARE_JSON, (uvicorn, "bare_json:app", "--port", "{port}"), project),
        Kind(BARE_SSE, (uvicorn, "bare_sse:app", "--port", "{port}"), project),
        *peers.kinds(project),
        Kind(CEILING, (uvicorn, "ceiling:app", "--http", "h11", "--port", "{port}"), project),
    )
    plan = {
        PLAIN: tuple(kind.name for kind in kinds),
        WITH_PROGRESS: (BAKE, BAKE_SSE, BARE_SSE),
    }
    if line == "2.x":
        plan[PLAIN_2026] = (BAKE, BAKE_JSON, BAKE_SSE, BARE_JSON, BARE_SSE)
    mcp = installed_version(venv_bin / "python", "mcp")
    return Line(line, mcp, project, kinds, plan)


def ratio(runs: Runs, baseline: Runs | None) -> str:
    """Return ``runs`` per CPU-second as a multiple of ``baseline``'s, if it was measured."""
    if baseline is None:
        return ""
    return f"{runs.per_cpu_second / baseline.per_cpu_second:.2f}"


def throughput_rows(line: Line, totals: dict[Request, dict[str, Runs]]) -> list[str]:
    """Return the throughput table's rows for one SDK line."""
    rows = []
    for request, by_name in totals.items():
        for name, runs in by_name.items():
            cells = [
                f"{line.line} (mcp {line.mcp})",
                request.name,
                name,
                f"{runs.per_second:,.0f}",
                f"{runs.per_cpu_second:,.0f}",
                *(ratio(runs, by_name.get(baseline)) for baseline in BASELINES),
                f"{statistics.median(runs.p50):.1f} / {statistics.median(runs.p99):.1f}",
                f"{runs.failed}",
            ]
            rows.append("| " + " | ".join(cells) + " |")
    return rows


def storm_row(line: Line, kind: str, s: dict[str, float]) -> str:
    """One row of the storm table."""
    return (
        f"| {line.line} (mcp {line.mcp}) | {kind} | {s['errors']:.0f} | {s['tracebacks']:.0f} "
        f"| {s['fresh']:.1f} | {s['first_peak']:.1f} / {s['first_settled']:.1f} "
        f"| {s['second_peak']:.1f} / {s['second_settled']:.1f} "
        f"| {s['second_settled'] - s['first_settled']:+.1f} | {s['work_off']:.2f} |"
    )


def machine() -> str:
    """Describe the machine in one line."""
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    python = platform.python_version()
    return f"{cpu}, {os.cpu_count()} cores, Linux {platform.release()}, Python {python}"


def load_average() -> str:
    """Return the machine's load average over the last minute, as ``/proc`` has it."""
    return Path("/proc/loadavg").read_text().split()[0]


def main() -> int:
    """Run what the arguments ask for and print the tables."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--lines", nargs="+", default=["2.x", "1.x"], choices=["2.x", "1.x"])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="runs per server and request")
    parser.add_argument("--connections", type=int, default=16, help="wrk's open connections")
    parser.add_argument("--storm", type=int, default=2000, help="requests cut short")
    parser.add_argument(
        "--traces", action="store_true", help="also the bake with an OTLP exporter against without"
    )
    args = parser.parse_args()
    # Stopped by a signal, it still stops every server it started (they are in ExitStacks).
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            raise SystemExit(f"benchmark.py needs {tool}: apt-get install wrk util-linux")
    rows, storms, traced, loads = [], [], [], [load_average()]
    with tempfile.TemporaryDirectory(prefix="mcp-bench-") as tmp:
        peers = install_peers(Path(tmp))
        for sdk_line in args.lines:
            line = prepare(sdk_line, Path(tmp), peers)
            rows += throughput_rows(line, throughput(line, args))
            loads.append(load_average())
            for kind in line.kinds:
                if kind.name in (BAKE, BARE_SSE):
                    storms.append(storm_row(line, kind.name, storm(kind, line.project, args.storm)))
            if args.traces:
                traced.append(traces_row(line, *traces(line, args)))
    pinning = "server and wrk each pinned to a core" if pinned(SERVER_CPU) else "no pinning"
    print(
        f"Machine: {machine()}; load average {' -> '.join(loads)} (1 min, before and after each "
        f"line); {pinning}; wrk {args.connections} connections, {args.rounds} rounds of "
        f"{args.duration:g} s per server and request, interleaved. Peers: {peers.versions}.\n"
    )
    print(
        "| SDK line | request | server | req/s | req/CPU-s | x TypeScript SDK, JSON "
        "| x bare SDK, SSE | p50 / p99 ms | failed |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(
        f"\nStorm: {args.storm} requests cut short mid-body from 32 threads, twice, against a "
        "fresh server; RSS in MiB.\n"
    )
    print(
        "| SDK line | server | ERROR lines | tracebacks | RSS fresh | 1st storm peak / settled "
        "| 2nd storm peak / settled | change over the 2nd | work-off s (1st) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(storms))
    if traced:
        print(
            "\nTraces: the bake without an exporter (off) and exporting every span over "
            "OTLP/HTTP to a local stand-in collector (on), SSE mode.\n"
        )
        print(
            "| SDK | off req/s | on req/s | ratio | off req/CPU-s | on req/CPU-s | ratio "
            "| off p50 / p99 ms | on p50 / p99 ms | batches / MiB sent | failed off / on |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        print("\n".join(traced))
    return 0


if __name__ == "__main__":
    sys.exit(main())
