r"""Chaos run: replicas with workers behind nginx, under checked load, while things go wrong.

    .venv/bin/python tests/measure/chaos.py              # ten minutes, as the README's figures
    .venv/bin/python tests/measure/chaos.py --seconds 60 --restart-every 15 \\
        --kill-worker-every 20 --kill-replica-every 35   # what CI runs (tests/test_chaos.py)

It bakes the defaults (or takes ``--project``, a bake to install) and starts ``--replicas``
replicas of ``--workers`` workers each behind nginx, configured from the bake's own
``deploy/nginx.conf`` (``cluster.py``). Then, all at once, for ``--seconds``:

* load, every answer checked: ``--clients`` threads call ``tools/call add`` through nginx on
  kept-alive connections, and ``--streamers`` threads call the slow tool with a progress token,
  whose SSE answer must carry every progress notification and then the result;
* every client fault of the bake's "Behaviour under faults" table (``docs/faults.md``), in
  turn, against each replica directly and through nginx, each answer checked against the
  table: bodies cut short, heads stalled or too large, clients leaving mid-stream, malformed,
  oversized and wrong-type requests, wrong methods, unknown tools and methods;
* a rolling restart of every replica (SIGTERM, exit code, start, nginx's ``fail_timeout``);
* a SIGKILL of one worker (of those past the supervisor's startup window), and of a whole
  replica, which is then started again.

It prints what the calls got (answered right, lost, refused with ``Retry-After`` and so
retryable, lost on a SIGKILLed process: nginx's log names the replica, which was killed
within the call's time), how the faults were answered, ERROR lines and tracebacks beyond those
a SIGKILL explains (the supervisor's ``worker … exited with code -9``), exit codes, and each
process's resident memory at its first sample after warm-up and its last. It exits 1 when a call
is lost outside a SIGKILL, a fault gets another answer than the table's, an ERROR or a
traceback is unexpected, or an exit is unclean.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import re
import signal
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

# Run as a script from tests/measure/: the template's helpers are one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _support import bake_and_install
from measure.cluster import (
    PROTOCOL,
    PUBLIC_HOST,
    Cluster,
    ClusterError,
    Replica,
    behind_nginx,
    call_add,
    free_port,
    install,
)

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
STARTUP_WINDOW = 5.0  # the supervisor's: a worker that dies younger is a failed startup
WARM_UP = 20.0  # seconds a process runs before its memory is first sampled
# What a SIGKILL leaves in the log by design: the supervisor replacing the worker.
EXPECTED_ERROR = re.compile(r" ERROR \S+workers: worker \d+ exited with code -9$")
NGINX_LINE = re.compile(r"upstream=(?P<upstream>.*?) upstream_status=.* request_id=(?P<rid>\S+)$")
SLOW_CALL = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {
            "name": "long_task",
            "arguments": {"seconds": 1, "steps": 4},
            "_meta": {"progressToken": "chaos"},
        },
    }
).encode()


# -- what happened ------------------------------------------------------------------------------


@dataclass
class Failure:
    """A call that did not get its right answer."""

    request_id: str
    started: float
    ended: float
    outcome: str


@dataclass
class Record:
    """Everything the run saw, shared by its threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    answered: Counter[str] = field(default_factory=Counter)  # by kind of call
    retryable: int = 0
    failures: list[Failure] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)  # "kind: as documented" etc.
    wrong_answers: list[str] = field(default_factory=list)
    kills: list[tuple[float, int, str]] = field(default_factory=list)  # when, port, "worker"
    restarts: dict[int, list[tuple[float, float]]] = field(default_factory=dict)
    exits: Counter[str] = field(default_factory=Counter)
    unclean_exits: list[str] = field(default_factory=list)
    rss: dict[int, list[int]] = field(default_factory=dict)  # pid: samples in bytes

    def killed_near(self, ports: set[int], started: float, ended: float) -> bool:
        """Whether a process of a replica on ``ports`` was SIGKILLed during the call."""
        return any(
            port in ports and started - 0.5 <= when <= ended + 0.5 for when, port, _ in self.kills
        )

    def restarting(self, port: int, started: float, ended: float) -> bool:
        """Whether the replica on ``port`` was stopped or starting during ``started..ended``."""
        return any(
            begin - 0.5 <= ended and started <= end + 0.5
            for begin, end in self.restarts.get(port, [])
        )


# -- load -------------------------------------------------------------------------------------


def add_caller(port: int, name: str, record: Record, stop: threading.Event) -> None:
    """Call ``add`` through nginx on one kept-alive connection until ``stop``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for number in range(sys.maxsize):
        if stop.is_set():
            break
        request_id = f"{name}-{number}"
        started = time.monotonic()
        try:
            status = call_add(connection, request_id=request_id)
            outcome = str(status)
        except (OSError, http.client.HTTPException, AssertionError, ValueError) as error:
            outcome = type(error).__name__
            connection.close()
            status = 0
        with record.lock:
            if status == 200:
                record.answered["add"] += 1
            elif status == 503:
                record.retryable += 1
            else:
                record.failures.append(Failure(request_id, started, time.monotonic(), outcome))
    connection.close()


def slow_caller(port: int, name: str, record: Record, stop: threading.Event) -> None:
    """Call the slow tool through nginx over SSE; each answer must carry 4 progress steps."""
    for number in range(sys.maxsize):
        if stop.is_set():
            break
        request_id = f"{name}-{number}"
        started = time.monotonic()
        outcome = "ok"
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("POST", "/mcp", SLOW_CALL, mcp_headers(request_id))
            response = connection.getresponse()
            body = response.read().decode("utf-8", errors="replace")
            if response.status != 200:
                outcome = str(response.status)
            elif body.count('"notifications/progress"') != 4 or '"done after 1 sec' not in body:
                outcome = "incomplete SSE answer"
        except (OSError, http.client.HTTPException) as error:
            outcome = type(error).__name__
        finally:
            connection.close()
        with record.lock:
            if outcome == "ok":
                record.answered["long_task"] += 1
            elif outcome == "503":
                record.retryable += 1
            else:
                record.failures.append(Failure(request_id, started, time.monotonic(), outcome))


def mcp_headers(request_id: str = "", content_type: str = "application/json") -> dict[str, str]:
    """Return the headers of an MCP call through nginx, named by ``request_id`` if given."""
    headers = {
        "Host": PUBLIC_HOST,
        "Content-Type": content_type,
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": PROTOCOL,
    }
    if request_id:
        headers["X-Request-ID"] = request_id
    return headers


# -- client faults, as docs/faults.md answers them --------------------------------------------


def raw_request(
    body: bytes, *, content_type: str = "application/json", method: str = "POST", **extra: str
) -> bytes:
    """Return an HTTP/1.1 request to /mcp with ``body`` and the headers an MCP client sends."""
    headers = {**mcp_headers(content_type=content_type), **extra}
    headers.setdefault("Content-Length", str(len(body)))
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return f"{method} /mcp HTTP/1.1\r\n{head}Connection: close\r\n\r\n".encode() + body


def rpc(method: str, params: dict[str, object] | None = None) -> bytes:
    """Return a JSON-RPC request for ``method``."""
    message: dict[str, object] = {"jsonrpc": "2.0", "id": 7, "method": method}
    if params is not None:
        message["params"] = params
    return json.dumps(message).encode()


@dataclass(frozen=True)
class Fault:
    """A fault a client can cause, and the answer the table documents for it."""

    name: str
    send: bytes
    # The answer's status, directly and through nginx (which answers some faults itself);
    # None for no answer: the connection is closed without a byte.
    status: int | None
    proxied_status: int | None = -1  # -1: as direct
    # The JSON-RPC error code the answer carries, if the table names one (nginx's own answers
    # carry none).
    code: int | None = None
    then_close_after: float | None = None  # send, wait this long, close (the client leaves)

    def expected(self, via_nginx: bool) -> tuple[bytes, bytes]:
        """Return what the answer starts with and what it must contain."""
        status = self.status if not via_nginx or self.proxied_status == -1 else self.proxied_status
        if status is None:
            return b"", b""
        answered_by_nginx = via_nginx and self.proxied_status != -1
        code = b"" if self.code is None or answered_by_nginx else b'"code":%d' % self.code
        return b"HTTP/1.1 %d " % status, code


def faults() -> list[Fault]:
    """Return the table's client faults, each with its documented answer."""
    add = rpc("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}})
    unknown_tool = rpc("tools/call", {"name": "nope", "arguments": {}})
    cut = raw_request(b'{"jsonrpc":', **{"Content-Length": "10000"})
    return [
        Fault("nothing sent", b"", None, then_close_after=0.2),
        Fault("body cut short", cut, None, then_close_after=0.0),
        Fault("client leaves mid-stream", raw_request(SLOW_CALL), 200, then_close_after=0.4),
        Fault("not JSON", raw_request(b"{not json"), 400, code=-32700),
        Fault("not UTF-8", raw_request(b"\xff\xfe{}"), 400, code=-32700),
        Fault("a batch", raw_request(b"[" + add + b"]"), 400, code=-32600),
        Fault("wrong content type", raw_request(add, content_type="text/plain"), 415, code=-32600),
        # nginx refuses the declared size itself (client_max_body_size), as the replica would.
        Fault(
            "body over MAX_BODY_BYTES",
            raw_request(b"", **{"Content-Length": str(5 << 20)}),
            413,
            413,
            code=-32600,
        ),
        Fault(
            "Content-Length not a number", raw_request(add, **{"Content-Length": "ten"}), 400, 400
        ),
        # nginx: 400 "Request Header Or Cookie Too Large" (large_client_header_buffers).
        Fault(
            "head over MAX_HEADER_BYTES", raw_request(add, **{"X-Padding": "x" * 20000}), 431, 400
        ),
        Fault("Accept without event-stream", raw_request(add, Accept="text/plain"), 406),
        Fault("DELETE on /mcp", raw_request(b"", method="DELETE"), 405),
        Fault("unknown tool", raw_request(unknown_tool), 200, code=-32602),
        Fault("unknown method", raw_request(rpc("no/such/method")), 200, code=-32601),
    ]


def stalled_head(port: int, via_nginx: bool, record: Record, stop: threading.Event) -> None:
    """Send part of a head and wait, again and again, until ``stop``.

    The replica closes it after ``HEADER_TIMEOUT`` with 408; nginx, after its
    ``client_header_timeout``, closes it without a byte.
    """
    while not stop.wait(random.uniform(0.5, 2.0)):
        started = time.monotonic()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
                sock.sendall(b"POST /mcp HTTP/1.1\r\nhost: " + PUBLIC_HOST.encode() + b"\r\ncon")
                answer = read_all(sock)
        except OSError as error:
            answer = type(error).__name__.encode()
        expected = b"" if via_nginx else b"HTTP/1.1 408 "
        judge(record, "stalled head", port, via_nginx, answer, expected, b"", started)


def read_all(sock: socket.socket) -> bytes:
    """Read until the other side closes, or until the socket's timeout if an answer came.

    (nginx keeps reading a body it refused for a while, before it closes: lingering close.)
    """
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except TimeoutError:
        if not received:
            raise
    return received


def inject(fault: Fault, port: int, via_nginx: bool, record: Record) -> None:
    """Cause ``fault`` against ``port`` and judge the answer."""
    started = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            if fault.send:
                sock.sendall(fault.send)
            if fault.then_close_after is not None:
                time.sleep(fault.then_close_after)
                sock.settimeout(1.0)
                try:
                    answer = sock.recv(65536)
                except TimeoutError:
                    answer = b""
            else:
                answer = read_all(sock)
    except OSError as error:
        answer = type(error).__name__.encode()
    judge(record, fault.name, port, via_nginx, answer, *fault.expected(via_nginx), started)


def judge(
    record: Record,
    name: str,
    port: int,
    via_nginx: bool,
    answer: bytes,
    expected: bytes,
    carrying: bytes,
    started: float,
) -> None:
    """Count the answer as documented, or as interrupted by a restart or kill, or wrong.

    ``expected`` is what it starts with (b"" for no answer at all), ``carrying`` what it holds.
    """
    ended = time.monotonic()
    if expected:
        right = answer.startswith(expected) and carrying in answer.replace(b" ", b"")
    else:
        right = answer in (b"", b"ConnectionResetError")
    where = "via nginx" if via_nginx else "direct"
    with record.lock:
        if right:
            record.faults[f"{name} ({where})"] += 1
            return
        ports = set(record.restarts) if via_nginx else {port}
        interrupted = record.killed_near(ports, started, ended) or (
            not via_nginx and record.restarting(port, started, ended)
        )
        if interrupted:
            record.faults["interrupted by a restart or kill"] += 1
        else:
            record.wrong_answers.append(f"{name} ({where}, port {port}): {answer[:120]!r}")


# -- the chaos ------------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    """Return the processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def workers_of(supervisor: int) -> list[int]:
    """Return the supervisor's workers (not multiprocessing's resource tracker, its child too)."""
    found = []
    for pid in children(supervisor):
        try:
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            continue
    return found


def running(pid: int) -> bool:
    """Tell whether ``pid`` runs: exists and is no zombie (whose files are closed)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def age(pid: int) -> float:
    """Return the seconds since ``pid`` started."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    return uptime - int(fields[19]) / CLOCK_TICKS


def rss(pid: int) -> int | None:
    """Return the resident memory of ``pid`` in bytes, or None once it is gone."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
    except OSError:
        return None


class Chaos:
    """Restarts and kills on a timetable, one at a time."""

    def __init__(self, cluster: Cluster, record: Record, args: argparse.Namespace) -> None:
        """Plan chaos on ``cluster`` at the intervals ``args`` give, noting it in ``record``."""
        self.cluster = cluster
        self.record = record
        self.args = args
        for replica in cluster.replicas:
            record.restarts[replica.port] = []
        self.each_done = threading.Event()

    def run(self, stop: threading.Event) -> None:
        """Do each event when it is due, until ``stop``; ``each_done`` once all have run."""
        start = time.monotonic()
        due = {
            self.rolling_restart: start + self.args.restart_every,
            self.kill_a_worker: start + self.args.kill_worker_every,
            self.kill_a_replica: start + self.args.kill_replica_every,
        }
        done: set[str] = set()
        every = {
            self.rolling_restart: self.args.restart_every,
            self.kill_a_worker: self.args.kill_worker_every,
            self.kill_a_replica: self.args.kill_replica_every,
        }
        while True:
            event = min(due, key=due.__getitem__)
            if stop.wait(max(0.0, due[event] - time.monotonic())):
                return
            try:
                event()
            except ClusterError as error:  # a replica that would not stop or start
                with self.record.lock:
                    self.record.unclean_exits.append(str(error))
            # Let each event's effects show (the supervisor replacing a worker, nginx finding
            # a replica back) before the next.
            stop.wait(2.0)
            done.add(event.__name__)
            if len(done) == len(due):
                self.each_done.set()
            due[event] = max(due[event] + every[event], time.monotonic())

    @contextmanager
    def down(self, replica: Replica) -> Iterator[None]:
        """Note the replica as stopped or starting while the block runs.

        Then wait until nginx tries it again (``fail_timeout``).
        """
        spans = self.record.restarts[replica.port]
        with self.record.lock:
            spans.append((time.monotonic(), math.inf))
        try:
            yield
        finally:
            with self.record.lock:
                spans[-1] = (spans[-1][0], time.monotonic())
        time.sleep(self.cluster.fail_timeout + 0.2)

    def rolling_restart(self) -> None:
        """SIGTERM each replica in turn, note its exit code, start it again."""
        for replica in self.cluster.replicas:
            with self.down(replica):
                code = replica.stop(signal.SIGTERM)
                self.note_exit(replica, "SIGTERM (rolling restart)", code)
                replica.start()

    def kill_a_worker(self) -> None:
        """SIGKILL one worker of one replica, of those past the startup window."""
        replica = random.choice(self.cluster.replicas)
        assert replica.process is not None
        workers = [pid for pid in workers_of(replica.process.pid) if age(pid) > STARTUP_WINDOW]
        if not workers:
            return
        with self.record.lock:
            self.record.kills.append((time.monotonic(), replica.port, "worker"))
        os.kill(random.choice(workers), signal.SIGKILL)

    def kill_a_replica(self) -> None:
        """SIGKILL one replica's supervisor and workers together, then start it again."""
        replica = random.choice(self.cluster.replicas)
        assert replica.process is not None
        with self.down(replica):
            with self.record.lock:
                self.record.kills.append((time.monotonic(), replica.port, "replica"))
            killed = [replica.process.pid, *children(replica.process.pid)]
            for pid in killed:
                os.kill(pid, signal.SIGKILL)
            replica.process.wait()
            # The workers, reparented, may hold the port a moment longer: until they are gone,
            # a new replica could not bind it.
            while any(map(running, killed)):
                time.sleep(0.01)
            replica.start()

    def note_exit(self, replica: Replica, why: str, code: int) -> None:
        """Count an exit code; one other than 0 is unclean."""
        with self.record.lock:
            self.record.exits[f"{why}: exit {code}"] += 1
            if code != 0:
                self.record.unclean_exits.append(f"port {replica.port}, {why}: exit {code}")

    def sample_memory(self, stop: threading.Event) -> None:
        """Sample each warm process's resident memory every 5 s, until ``stop``."""
        while not stop.wait(5.0):
            for replica in self.cluster.replicas:
                if replica.process is None:
                    continue
                for pid in [replica.process.pid, *children(replica.process.pid)]:
                    with self.record.lock:
                        if (size := rss(pid)) is not None and age(pid) > WARM_UP:
                            self.record.rss.setdefault(pid, []).append(size)


def fault_injector(cluster: Cluster, record: Record, stop: threading.Event) -> None:
    """Cause every fault in turn, against every replica directly and through nginx."""
    targets = [(replica.port, False) for replica in cluster.replicas]
    targets.append((cluster.proxy_port, True))
    while not stop.is_set():
        for fault in faults():
            for port, via_nginx in targets:
                if stop.wait(0.05):
                    return
                inject(fault, port, via_nginx, record)


# -- the run --------------------------------------------------------------------------------------


def run(cluster: Cluster, args: argparse.Namespace) -> Record:
    """Run load, faults and chaos for ``args.seconds``, then stop every replica."""
    record = Record()
    chaos = Chaos(cluster, record, args)
    stop = threading.Event()
    port = cluster.proxy_port
    workers: list[Callable[[], None]] = [
        *(
            (lambda name=f"add{n}": add_caller(port, name, record, stop))
            for n in range(args.clients)
        ),
        *(
            (lambda name=f"slow{n}": slow_caller(port, name, record, stop))
            for n in range(args.streamers)
        ),
        lambda: fault_injector(cluster, record, stop),
        lambda: stalled_head(cluster.replicas[0].port, False, record, stop),
        lambda: stalled_head(port, True, record, stop),
        lambda: chaos.run(stop),
        lambda: chaos.sample_memory(stop),
    ]
    threads = [threading.Thread(target=work, daemon=True) for work in workers]
    for thread in threads:
        thread.start()
    stop.wait(args.seconds)
    # On a slow machine, a short run may end before each kind of chaos has come: wait for it.
    chaos.each_done.wait(timeout=args.seconds * 3)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    for replica in cluster.replicas:
        chaos.note_exit(replica, "SIGTERM (end of run)", replica.stop(signal.SIGTERM))
    return record


def lost_on_a_kill(record: Record, access_log: Path) -> tuple[list[Failure], list[Failure]]:
    """Split the failed calls: those on a SIGKILLed process, and the others (lost)."""
    upstreams: dict[str, set[int]] = {}
    for line in access_log.read_text("utf-8", errors="replace").splitlines():
        if found := NGINX_LINE.search(line):
            ports = {int(port) for port in re.findall(r":(\d+)", found["upstream"])}
            upstreams[found["rid"]] = ports
    on_kill, lost = [], []
    for failure in record.failures:
        ports = upstreams.get(failure.request_id, set(record.restarts))
        if record.killed_near(ports, failure.started, failure.ended):
            on_kill.append(failure)
        else:
            lost.append(failure)
    return on_kill, lost


def unexpected_errors(cluster: Cluster) -> list[str]:
    """Return the replicas' ERROR lines no SIGKILL explains, and their tracebacks."""
    lines = []
    for replica in cluster.replicas:
        for line in replica.output().splitlines():
            if (" ERROR " in line and not EXPECTED_ERROR.search(line)) or "Traceback" in line:
                lines.append(f"port {replica.port}: {line}")
    return lines


def report(cluster: Cluster, record: Record, args: argparse.Namespace) -> int:
    """Print the figures and what went wrong; return the exit code."""
    on_kill, lost = lost_on_a_kill(record, cluster.access_log)
    errors = unexpected_errors(cluster)
    expected_errors = sum(
        len([line for line in r.output().splitlines() if EXPECTED_ERROR.search(line)])
        for r in cluster.replicas
    )
    drifts = [
        (samples[-1] - samples[0]) / 2**20 for samples in record.rss.values() if len(samples) > 2
    ]
    sizes = [size for samples in record.rss.values() for size in samples]
    restarts = sum(len(spans) for spans in record.restarts.values())
    kills = Counter(kind for *_, kind in record.kills)
    print(
        f"\n## Chaos run: {args.seconds:g} s, {len(cluster.replicas)} replicas of "
        f"{args.workers} workers behind nginx\n"
    )
    print("| what | count |\n|---|---|")
    rows = [
        (
            "calls answered right (add / long_task over SSE)",
            f"{sum(record.answered.values())} ({record.answered['add']} / "
            f"{record.answered['long_task']})",
        ),
        ("calls lost", len(lost)),
        ("calls refused with Retry-After (retryable)", record.retryable),
        ("calls lost on a SIGKILLed process", len(on_kill)),
        (
            "faults injected, answered as documented",
            sum(
                count for name, count in record.faults.items() if not name.startswith("interrupted")
            ),
        ),
        (
            "faults interrupted by a restart or kill of their replica",
            record.faults["interrupted by a restart or kill"],
        ),
        ("faults answered otherwise", len(record.wrong_answers)),
        ("replica restarts and kills (stops noted)", restarts),
        (
            "workers SIGKILLed / replicas SIGKILLed",
            f"{kills['worker']} / {kills['replica']}",
        ),
        ("ERROR lines a SIGKILL explains / unexpected", f"{expected_errors} / {len(errors)}"),
        ("exits", ", ".join(f"{why} x{n}" for why, n in sorted(record.exits.items()))),
        (
            "RSS drift per process over its life, MiB (median / max, processes)",
            f"{statistics.median(drifts):+.1f} / {max(drifts):+.1f} ({len(drifts)})"
            if drifts
            else "no process lived long enough",
        ),
        (
            "RSS per process, MiB (smallest / largest sample)",
            f"{min(sizes) / 2**20:.1f} / {max(sizes) / 2**20:.1f}" if sizes else "no sample",
        ),
    ]
    for what, count in rows:
        print(f"| {what} | {count} |")
    kinds = sorted({name.rsplit(" (", 1)[0] for name in record.faults if "(" in name})
    print(f"\nFaults injected: {', '.join(kinds)}.")
    for failure in lost:
        print(f"LOST {failure.request_id}: {failure.outcome}")
    for wrong in record.wrong_answers:
        print(f"WRONG ANSWER {wrong}")
    for line in errors:
        print(f"UNEXPECTED {line}")
    for exit_line in record.unclean_exits:
        print(f"UNCLEAN EXIT {exit_line}")
    failed = bool(lost or record.wrong_answers or errors or record.unclean_exits)
    print("\nresult:", "FAILED" if failed else "clean")
    return 1 if failed else 0


def main() -> int:
    """Bake or install, start the cluster, run, report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--streamers", type=int, default=2)
    parser.add_argument("--restart-every", type=float, default=60)
    parser.add_argument("--kill-worker-every", type=float, default=90)
    parser.add_argument("--kill-replica-every", type=float, default=150)
    parser.add_argument("--project", type=Path, help="a bake to install and run (default: bake)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="chaos-") as temporary:
        workdir = Path(temporary)
        if args.project is not None:
            project = args.project.resolve()
            if not (project / ".venv" / "bin" / "my-mcp-server").exists():
                install(project)
        else:
            project = bake_and_install(workdir, "2.x")
        replicas = [
            Replica(
                project / ".venv" / "bin",
                free_port(),
                workdir / f"replica-{index}.log",
                args=("--workers", str(args.workers)),
            )
            for index in range(args.replicas)
        ]
        with behind_nginx(replicas, project, workdir) as cluster:
            record = run(cluster, args)
        return report(cluster, record, args)


if __name__ == "__main__":
    raise SystemExit(main())
