"""Benchmark: the bake, as its README starts it, against the bare SDK on the same uvicorn.

    .venv/bin/python tests/measure/benchmark.py                  # both SDK lines, SSE and JSON mode
    .venv/bin/python tests/measure/benchmark.py --lines 2.x --duration 5 --rounds 3

For each SDK line it bakes the template, installs the bake into a fresh uv venv, and writes
the bare SDK's own app beside it: the SDK's high-level server with the bake's tools, its
stateless streamable-HTTP app (``streamable_http_app``) served by ``uvicorn bare:app`` with
uvicorn's defaults. The bake runs as ``my-mcp-server`` (``*_JSON_RESPONSE=true`` for JSON
mode). Both log to a file, as in production.

Throughput: wrk (Debian's ``wrk`` package) sends ``tools/call add`` over kept-alive
connections. wrk is a C load generator: on a two-core machine a Python client would take as
much CPU as the server it measures, while wrk's share is small and the same for both sides,
and it reports latency percentiles itself. Runs of the bake and the bare SDK alternate, round
after round, so a machine that gets busier or quieter affects both alike. Server CPU comes
from ``/proc`` (user + system time of the server process).

Storm: 2,000 requests cut short mid-body (a large ``Content-Length``, half the body, then a
reset) from 32 threads, twice, against a fresh server of each kind: ERROR lines and tracebacks
logged; resident memory fresh, at each storm's peak and a second after it (the first storm
sets a high-water mark, the second shows whether a storm leaves anything behind); and the
work-off time (from the end of the storm until the server's CPU goes idle).

Traces (``--traces``): the bake as above against the bake exporting its spans over OTLP/HTTP
(``OTEL_EXPORTER_OTLP_ENDPOINT``) to a stand-in collector in this process, which reads each
batch and answers 200; runs alternate as above, SSE mode. The bake without the variable is the
bake of the first table, with nothing of tracing loaded: its figures against the bare SDK's
there are the cost of no exporter.

Prints Markdown tables; the template README shows the latest. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# Run as a script from tests/measure/: the template's helpers are one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _support import bake_and_install, clean_env

PACKAGE = "my_mcp_server"
COMMAND = "my-mcp-server"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")

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

CALL = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "tools/call",
    "params": {"name": "add", "arguments": {"a": 2, "b": 3}},
}
HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-06-18",
}
WRK_SCRIPT = f"""
wrk.method = "POST"
wrk.body = {json.dumps(json.dumps(CALL))}
{"".join(f'wrk.headers["{name}"] = "{value}"{chr(10)}' for name, value in HEADERS.items())}
"""


@dataclass
class Server:
    """A server process of one kind, with its log file."""

    kind: str
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
    """What wrk measured over the rounds for one kind in one mode."""

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


def free_port() -> int:
    """Return a port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_serving(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    """Return once /healthz answers; stop the benchmark if the server exits first."""
    deadline = time.monotonic() + 30
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
def serving(
    kind: str, project: Path, json_response: bool, env_extra: dict[str, str] | None = None
) -> Iterator[Server]:
    """Start ``bake`` (as its README does) or ``bare`` (uvicorn on the SDK's app).

    ``env_extra`` is added to its environment (the OpenTelemetry variables, say).
    """
    port = free_port()
    venv_bin = project / ".venv" / "bin"
    env = clean_env({"PATH": f"{venv_bin}:{os.environ['PATH']}"})
    env = {name: value for name, value in env.items() if not name.startswith("OTEL_")}
    env.update(env_extra or {})
    if kind == "bake":
        env[f"{PACKAGE.upper()}_JSON_RESPONSE"] = str(json_response).lower()
        args = [str(venv_bin / COMMAND), "--port", str(port)]
    else:
        app = "bare_json" if json_response else "bare_sse"
        args = [str(venv_bin / "uvicorn"), f"{app}:app", "--port", str(port)]
    log = project / f"{kind}-{'json' if json_response else 'sse'}-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            args, cwd=project, env=env, stdout=sink, stderr=subprocess.STDOUT
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


def check_answer(server: Server) -> None:
    """One call, checked, so that the load measures correct answers."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("POST", "/mcp", json.dumps(CALL), HEADERS)
    response = connection.getresponse()
    text = response.read().decode()
    connection.close()
    if response.status != 200 or '"structuredContent":{"result":5.0}' not in text.replace(" ", ""):
        raise SystemExit(f"{server.kind}: unexpected answer {response.status} {text!r}")


def wrk(server: Server, script: Path, seconds: float, connections: int) -> Runs:
    """Drive ``server`` with wrk for ``seconds``; what it answered and what that cost."""
    before = server.cpu_seconds()
    started = time.monotonic()
    result = subprocess.run(
        [
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
    """Add one run to the totals of its kind."""
    total.requests += one.requests
    total.seconds += one.seconds
    total.cpu += one.cpu
    total.failed += one.failed
    total.p50 += one.p50
    total.p99 += one.p99


def throughput(project: Path, args: argparse.Namespace, json_response: bool) -> dict[str, Runs]:
    """Alternate wrk runs against the bake and the bare SDK; the totals of each."""
    script = project / "call.lua"
    script.write_text(WRK_SCRIPT, encoding="utf-8")
    totals = {"bake": Runs(), "bare": Runs()}
    with (
        serving("bake", project, json_response) as bake,
        serving("bare", project, json_response) as bare,
    ):
        servers = {"bake": bake, "bare": bare}
        for server in servers.values():
            check_answer(server)
            wrk(server, script, 1, args.connections)  # warm-up, not counted
        for round_ in range(args.rounds):
            order = ("bake", "bare") if round_ % 2 == 0 else ("bare", "bake")
            for kind in order:
                add(totals[kind], wrk(servers[kind], script, args.duration, args.connections))
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


def traces(project: Path, args: argparse.Namespace) -> tuple[Runs, Runs, Collector]:
    """Alternate wrk runs against the bake without and with an OTLP exporter (SSE mode)."""
    script = project / "call.lua"
    script.write_text(WRK_SCRIPT, encoding="utf-8")
    totals = {"off": Runs(), "on": Runs()}
    collector = Collector()
    collector.thread.start()
    exporting = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint}
    try:
        with (
            serving("bake", project, False) as off,
            serving("bake", project, False, exporting) as on,
        ):
            servers = {"off": off, "on": on}
            for server in servers.values():
                check_answer(server)
                wrk(server, script, 1, args.connections)  # warm-up, not counted
            for round_ in range(args.rounds):
                order = ("off", "on") if round_ % 2 == 0 else ("on", "off")
                for kind in order:
                    add(totals[kind], wrk(servers[kind], script, args.duration, args.connections))
    finally:
        collector.server.shutdown()
        collector.server.server_close()
    return totals["off"], totals["on"], collector


def traces_row(sdk: str, off: Runs, on: Runs, collector: Collector) -> str:
    """One row of the traces table."""
    cells = [
        sdk,
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
    body = json.dumps(CALL).encode()
    head = (
        f"POST /mcp HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n"
        "accept: application/json, text/event-stream\r\nmcp-protocol-version: 2025-06-18\r\n"
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
    check_answer(server)
    time.sleep(1)
    done.set()
    sampler.join()
    return StormFigures(peak, server.rss_mib(), max(idle_since - storm_over, 0.0))


def storm(project: Path, kind: str, requests: int) -> dict[str, float]:
    """Two storms against a fresh server of ``kind``: what it logged and what memory it held.

    The first storm raises memory to a high-water mark (connections accepted in a burst); the
    second, identical one shows whether a storm leaves anything behind.
    """
    with serving(kind, project, json_response=False) as server:
        check_answer(server)
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


def prepare(line: str, workdir: Path) -> tuple[Path, str]:
    """Bake ``line`` and install it with uv into its own venv; the project and its mcp."""
    project = bake_and_install(workdir, line)
    venv = project / ".venv"
    for mode, json_response in (("sse", False), ("json", True)):
        source = BARE_APP[line].format(package=PACKAGE, json_response=json_response)
        (project / f"bare_{mode}.py").write_text(source, encoding="utf-8")
    version = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import importlib.metadata as m; print(m.version('mcp'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return project, version


def throughput_row(sdk: str, mode: str, bake: Runs, bare: Runs) -> str:
    """One row of the throughput table."""
    cells = [
        sdk,
        mode,
        f"{bake.per_second:,.0f}",
        f"{bare.per_second:,.0f}",
        f"{bake.per_second / bare.per_second:.2f}",
        f"{bake.per_cpu_second:,.0f}",
        f"{bare.per_cpu_second:,.0f}",
        f"{bake.per_cpu_second / bare.per_cpu_second:.2f}",
        f"{statistics.median(bake.p50):.1f} / {statistics.median(bake.p99):.1f}",
        f"{statistics.median(bare.p50):.1f} / {statistics.median(bare.p99):.1f}",
        f"{bake.failed} / {bare.failed}",
    ]
    return "| " + " | ".join(cells) + " |"


def storm_row(sdk: str, kind: str, s: dict[str, float]) -> str:
    """One row of the storm table."""
    return (
        f"| {sdk} | {kind} | {s['errors']:.0f} | {s['tracebacks']:.0f} | {s['fresh']:.1f} "
        f"| {s['first_peak']:.1f} / {s['first_settled']:.1f} "
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


def main() -> int:
    """Run what the arguments ask for and print the tables."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--lines", nargs="+", default=["2.x", "1.x"], choices=["2.x", "1.x"])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs per kind")
    parser.add_argument("--connections", type=int, default=16, help="wrk's open connections")
    parser.add_argument("--storm", type=int, default=2000, help="requests cut short")
    parser.add_argument(
        "--traces", action="store_true", help="also the bake with an OTLP exporter against without"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("benchmark.py needs wrk: apt-get install wrk")
    rows, storms, traced = [], [], []
    with tempfile.TemporaryDirectory(prefix="mcp-bench-") as tmp:
        for line in args.lines:
            project, version = prepare(line, Path(tmp))
            sdk = f"{line} (mcp {version})"
            for mode, json_response in (("SSE", False), ("JSON", True)):
                runs = throughput(project, args, json_response)
                rows.append(throughput_row(sdk, mode, runs["bake"], runs["bare"]))
            for kind in ("bake", "bare"):
                storms.append(storm_row(sdk, kind, storm(project, kind, args.storm)))
            if args.traces:
                traced.append(traces_row(sdk, *traces(project, args)))
    print(
        f"Machine: {machine()}; wrk {args.connections} connections, {args.rounds} rounds of "
        f"{args.duration:g} s per kind and mode, interleaved.\n"
    )
    print(
        "| SDK | mode | bake req/s | bare req/s | ratio | bake req/CPU-s | bare req/CPU-s | ratio "
        "| bake p50 / p99 ms | bare p50 / p99 ms | failed bake / bare |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(
        f"\nStorm: {args.storm} requests cut short mid-body from 32 threads (SSE mode), twice, "
        "against a fresh server; RSS in MiB.\n"
    )
    print(
        "| SDK | server | ERROR lines | tracebacks | RSS fresh | 1st storm peak / settled "
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
