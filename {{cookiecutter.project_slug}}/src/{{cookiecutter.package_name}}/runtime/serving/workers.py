"""``--workers N``: N server processes on one listening socket, under a small supervisor.

Each worker is a whole server (``server.py``): the guard, the limits and the graceful drain
work in it exactly as in a single process, and each keeps its own limits. They share the
socket the supervisor bound, so the kernel hands every new connection to whichever worker
accepts it first, and a worker that is draining simply stops accepting: the others go on.

On SIGTERM or SIGINT the supervisor first stops new connections on the socket, as one process
does before it closes its own (``shutdown.py``): the kernel drops new attempts (a proxy's retry
then meets a closed port, a refusal it retries elsewhere, once every process has let go of the
socket), and the handshakes under way get time to complete. Then it passes SIGTERM on (a second
signal, as in one process, cuts the requests short), lets go of the socket, waits for the
workers, which empty the queue and drain, and exits 0 once all have. Otherwise the workers
would stop accepting while the supervisor's copy of the socket kept the kernel accepting:
connections nobody serves, reset when the supervisor exits, each a lost request behind a
proxy. A worker that a stop signal reaches before it serves (still starting, or replacing
one) exits at once, which is as clean: it had no connection.

Workers run in their own process group, so a Ctrl-C in a terminal reaches them once, through
the supervisor, and they receive SIGTERM if the supervisor itself dies. A worker that dies on
its own is replaced; one that dies within ``STARTUP_WINDOW`` seconds of its start is taken as
a startup failure that a restart would repeat, and the supervisor stops.

Without ``REQUEST_STATE_KEYS``, the supervisor generates one key for the state a call that asks
the client for input carries between its rounds, and hands it to every worker it starts,
replacements included: a later round is sealed and unsealed by the same key whichever worker
gets it. The key lives in the processes' memory only, never in a log. Replicas on other hosts
cannot share it: they need the setting.

With metrics on, the supervisor makes the workers' shared metrics directory (prometheus-client's
multiprocess mode, ``PROMETHEUS_MULTIPROC_DIR``): a new temporary one, removed when it exits,
unless the environment names one already (it must then be empty at start).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import time
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any, Final, TypeVar

from prometheus_client.multiprocess import mark_process_dead
from pydantic import SecretStr

from ..http.metrics import MULTIPROCESS_DIR
from ..settings import ServiceSettings
from .bootstrap import start_logging
from .server import serve
from .shutdown import HANDSHAKE_WAIT, refuse_new_connections, stop_signal_handler

if TYPE_CHECKING:
    from .service import Service

logger = logging.getLogger(__name__)

STARTUP_WINDOW: Final = 5.0
_STOP_SIGNALS: Final = (signal.SIGTERM, signal.SIGINT)
_PR_SET_PDEATHSIG: Final = 1


class Supervisor:
    """Starts ``settings.workers`` workers on ``sock`` and supervises them until they stop."""

    def __init__(
        self, service: Service[Any], settings: ServiceSettings, sock: socket.socket
    ) -> None:
        self.service = service
        self.settings = with_a_request_state_key(settings)
        self.sock = sock
        self.context = multiprocessing.get_context("spawn")
        self.workers: dict[int, tuple[BaseProcess, float]] = {}
        self.stopping = False

    def run(self) -> int:
        """Supervise until every worker has exited; the exit code for the command."""
        made_metrics_dir = None
        if self.settings.metrics and not os.environ.get(MULTIPROCESS_DIR):
            # Set before any worker starts: each reads it when it imports prometheus-client.
            made_metrics_dir = tempfile.mkdtemp(prefix="prometheus-")
            os.environ[MULTIPROCESS_DIR] = made_metrics_dir
        try:
            return self._run()
        finally:
            if made_metrics_dir is not None:
                del os.environ[MULTIPROCESS_DIR]
                shutil.rmtree(made_metrics_dir, ignore_errors=True)

    def _run(self) -> int:
        wakeup_read, wakeup_write = socket.socketpair()
        wakeup_read.setblocking(False)
        wakeup_write.setblocking(False)
        previous = {sig: signal.signal(sig, lambda *_: None) for sig in _STOP_SIGNALS}
        previous_fd = signal.set_wakeup_fd(wakeup_write.fileno())
        try:
            for _ in range(self.settings.workers):
                self._start_worker()
            logger.info("started %d workers, pids %s", len(self.workers), self._pids())
            return self._supervise(wakeup_read)
        finally:
            signal.set_wakeup_fd(previous_fd)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            wakeup_read.close()
            wakeup_write.close()

    def _supervise(self, wakeup: socket.socket) -> int:
        failed = False
        while self.workers:
            sentinels = {process.sentinel: pid for pid, (process, _) in self.workers.items()}
            ready = wait([*sentinels, wakeup])
            if wakeup in ready:
                with contextlib.suppress(BlockingIOError):
                    for signum in wakeup.recv(64):
                        self._forward(signal.Signals(signum))
            for sentinel in ready:
                if sentinel is wakeup:
                    continue
                pid = sentinels[sentinel]  # type: ignore[index]
                process, started = self.workers.pop(pid)
                process.join()
                if MULTIPROCESS_DIR in os.environ:
                    # Its in-flight gauge no longer counts; its counters still do.
                    mark_process_dead(pid)  # type: ignore[no-untyped-call]
                if self.stopping:
                    # Killed by the SIGTERM passed on before it served: nothing to drain.
                    failed |= process.exitcode not in (0, -signal.SIGTERM)
                    continue
                logger.error("worker %d exited with code %s", pid, process.exitcode)
                if time.monotonic() - started < STARTUP_WINDOW:
                    logger.error("a worker failed on startup: stopping the others")
                    failed = True
                    self._forward(signal.SIGTERM)
                else:
                    logger.info("started worker %d in place of %d", self._start_worker(), pid)
        logger.info("all workers have stopped")
        return 1 if failed else 0

    def _forward(self, signum: signal.Signals) -> None:
        first = not self.stopping
        if first:
            self.stopping = True
            logger.info("%s: stopping workers %s, each draining", signum.name, self._pids())
            if refuse_new_connections(self.sock):
                time.sleep(HANDSHAKE_WAIT)  # the workers accept what completes meanwhile
        for pid in self.workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        if first:
            # The workers hold it until they have emptied its queue; then the port is closed.
            self.sock.close()

    def _start_worker(self) -> int:
        process = self.context.Process(
            target=_work,
            args=(self.service, self.settings, self.sock, os.getpid()),
            daemon=False,
        )
        process.start()
        assert process.pid is not None
        self.workers[process.pid] = (process, time.monotonic())
        return process.pid

    def _pids(self) -> str:
        return ", ".join(str(pid) for pid in self.workers)


SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


def with_a_request_state_key(settings: SettingsT) -> SettingsT:
    """``settings``, with one newly generated request-state key if they name none.

    32 random bytes, as 64 hex digits: what ``REQUEST_STATE_KEYS`` would hold.
    """
    if settings.request_state_keys:
        return settings
    generated = SecretStr(secrets.token_hex(32))
    return settings.model_copy(update={"request_state_keys": (generated,)})


def _work(
    service: Service[Any], settings: ServiceSettings, sock: socket.socket, supervisor: int
) -> None:
    """A worker's life: its own process group, SIGTERM if the supervisor dies, then serve."""
    for stop in _STOP_SIGNALS:  # a stop signal from here on starts the drain once serving
        signal.signal(stop, stop_signal_handler)
    os.setpgrp()
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != supervisor:  # the supervisor died before prctl took effect
            return
    start_logging(settings)
    serve(service, settings, sock)
