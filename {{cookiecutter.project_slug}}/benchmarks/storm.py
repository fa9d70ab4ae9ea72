"""Benchmark: a storm of cut-short requests among valid calls, guarded app vs the bare SDK app.

Run from the project root::

    python benchmarks/storm.py                     # 2,000 cut-short requests, 1,000 valid calls
    python benchmarks/storm.py --truncated 5000 --valid 2000 --workers 64

For each app it starts a real uvicorn server in a child process and prints: valid-call
throughput without and with the storm, valid calls answered wrongly or not at all, the time
the server takes to answer normally again after the storm, peak and settled resident memory,
and the WARNING and ERROR lines it logged. Figures are printed, not asserted (the load test
``tests/test_load.py`` holds the line).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the tests' raw-HTTP helpers live in tests/

from tests.storm import resident_kib, storm, valid_call  # noqa: E402

LISTENING = re.compile(r"serving on port (\d+)")


def serve(kind: str) -> None:
    """Child process: serve the guarded or the bare app on a free port, log to stderr."""
    import socket

    import uvicorn

    from {{ cookiecutter.package_name }}.app import create_app
    from {{ cookiecutter.package_name }}.runtime.logs import configure_logging
    from {{ cookiecutter.package_name }}.runtime.sdk import (
        create_http_app,
        new_server,
    )
    from {{ cookiecutter.package_name }}.settings import read_settings
    from {{ cookiecutter.package_name }}.tools import register_tools

    settings = read_settings(json_response=True, log_level="warning")
    configure_logging(settings.log_level)
    if kind == "guarded":
        app = create_app(settings)
    else:
        server = new_server(settings)
        register_tools(server)
        app = create_http_app(server, settings)
    sock = socket.create_server(("127.0.0.1", 0), backlog=4096)
    print(f"serving on port {sock.getsockname()[1]}", file=sys.stderr, flush=True)
    config = uvicorn.Config(app, log_config=None, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


@dataclass
class Figures:
    baseline_calls_per_s: float
    storm_calls_per_s: float
    wrong_or_lost: int
    recovery_s: float
    rss_before_mib: float
    rss_peak_mib: float
    rss_settled_mib: float
    warnings: int
    errors: int


def measure(kind: str, truncated: int, valid: int, workers: int) -> Figures:
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    lines: list[str] = []
    assert child.stderr is not None
    stderr = child.stderr
    reader = threading.Thread(target=lambda: lines.extend(line.rstrip() for line in stderr))
    reader.start()
    try:
        port = _wait_for_port(lines, child)
        storm(port, truncated=0, valid=min(200, valid), workers=workers)  # warm up
        baseline = storm(port, truncated=0, valid=valid, workers=workers)
        normal_latency = statistics.median(baseline.latencies)
        time.sleep(1)
        rss_before = resident_kib(child.pid)

        peak = [rss_before]
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.is_set():
                peak.append(resident_kib(child.pid))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample)
        sampler.start()
        result = storm(port, truncated=truncated, valid=valid, workers=workers)
        storm_over = time.monotonic()
        recovery = _time_to_normal(port, normal_latency, storm_over)
        time.sleep(2)
        sampling.set()
        sampler.join()
        rss_settled = resident_kib(child.pid)
    finally:
        child.terminate()
        child.wait(timeout=30)
        reader.join(timeout=10)
    log = "\n".join(lines)
    return Figures(
        baseline_calls_per_s=baseline.calls_per_second,
        storm_calls_per_s=result.calls_per_second,
        wrong_or_lost=len(result.wrong),
        recovery_s=recovery,
        rss_before_mib=rss_before / 1024,
        rss_peak_mib=max(peak) / 1024,
        rss_settled_mib=rss_settled / 1024,
        warnings=log.count(" WARNING "),
        errors=log.count(" ERROR "),
    )


def _wait_for_port(lines: list[str], child: subprocess.Popen[str]) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for line in list(lines):
            if found := LISTENING.search(line):
                time.sleep(0.3)  # let uvicorn finish its startup
                return int(found.group(1))
        if child.poll() is not None:
            raise SystemExit("the server exited:\n" + "\n".join(lines))
        time.sleep(0.05)
    raise SystemExit("the server did not start within 60 s")


def _time_to_normal(port: int, normal_latency: float, since: float) -> float:
    """Seconds from the storm's end until a call is answered about as fast as before it."""
    for number in range(100_000, 100_000 + 10_000):
        ok, elapsed, _ = valid_call(port, number)
        if ok and elapsed <= 3 * normal_latency:
            return time.monotonic() - since
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--truncated", type=int, default=2000, help="cut-short requests")
    parser.add_argument("--valid", type=int, default=1000, help="valid calls")
    parser.add_argument("--workers", type=int, default=64, help="concurrent clients")
    parser.add_argument("--serve", choices=["guarded", "bare"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return

    print(f"{args.truncated} cut-short requests among {args.valid} valid calls, ", end="")
    print(f"{args.workers} at once")
    figures = {
        kind: measure(kind, args.truncated, args.valid, args.workers)
        for kind in ("guarded", "bare")
    }
    rows = [
        ("valid calls/s, no storm", "baseline_calls_per_s", "{:.0f}"),
        ("valid calls/s, in the storm", "storm_calls_per_s", "{:.0f}"),
        ("valid calls wrong or lost", "wrong_or_lost", "{}"),
        ("answering normally again after", "recovery_s", "{:.2f} s"),
        ("resident memory before", "rss_before_mib", "{:.1f} MiB"),
        ("resident memory, peak", "rss_peak_mib", "{:.1f} MiB"),
        ("resident memory, settled", "rss_settled_mib", "{:.1f} MiB"),
        ("WARNING lines", "warnings", "{}"),
        ("ERROR lines", "errors", "{}"),
    ]
    print(f"| {'':32} | {'guarded':>12} | {'bare SDK':>12} |")
    print(f"|{'-' * 34}|{'-' * 14}|{'-' * 14}|")
    for label, name, form in rows:
        guarded, bare = (form.format(getattr(figures[kind], name)) for kind in ("guarded", "bare"))
        print(f"| {label:32} | {guarded:>12} | {bare:>12} |")


if __name__ == "__main__":
    main()
