"""``--workers N``: N server processes on one listening socket, under a small supervisor.

Each worker is a whole server (``server.py``): the guard, the limits and the graceful drain
work in it exactly as in a single process, and each keeps its own limits. They share the
socket the supervisor bound, so the kernel hands every new connection to whichever worker
accepts it first, and a worker that is draining simply stops accepting: the others go on.

The supervisor forwards SIGTERM and SIGINT to the workers (a second signal, as in one process,
cuts their requests short), waits for them, and exits 0 once all have drained. Workers run in
their own process group, so a Ctrl-C in a terminal reaches them once, through the supervisor,
and they receive SIGTERM if the supervisor itself dies. A worker that dies on its own is
replaced; one that dies within ``STARTUP_WINDOW`` seconds of its start is taken as a startup
failure that a restart would repeat, and the supervisor stops.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from typing import Final

from ..settings import Settings
from .logs import configure_logging
from .server import serve

logger = logging.getLogger(__name__)

STARTUP_WINDOW: Final = 5.0
_STOP_SIGNALS: Final = (signal.SIGTERM, signal.SIGINT)
_PR_SET_PDEATHSIG: Final = 1


class Supervisor:
    """Starts ``settings.workers`` workers on ``sock`` and supervises them until they stop."""

    def __init__(self, settings: Settings, sock: socket.socket) -> None:
        self.settings = settings
        self.sock = sock
        self.context = multiprocessing.get_context("spawn")
        self.workers: dict[int, tuple[BaseProcess, float]] = {}
        self.stopping = False

    def run(self) -> int:
        """Supervise until every worker has exited; the exit code for the command."""
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
                if self.stopping:
                    failed |= process.exitcode != 0
                    continue
                logger.error("worker %d exited with code %s", pid, process.exitcode)
                if time.monotonic() - started < STARTUP_WINDOW:
                    logger.error("a worker failed on startup: stopping the others")
                    failed = True
                    self._forward(signal.SIGTERM)
                else:
                    self._start_worker()
        logger.info("all workers have stopped")
        return 1 if failed else 0

    def _forward(self, signum: signal.Signals) -> None:
        if not self.stopping:
            self.stopping = True
            logger.info("%s: stopping workers %s, each draining", signum.name, self._pids())
        for pid in self.workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def _start_worker(self) -> None:
        process = self.context.Process(
            target=_work, args=(self.settings, self.sock, os.getpid()), daemon=False
        )
        process.start()
        assert process.pid is not None
        self.workers[process.pid] = (process, time.monotonic())

    def _pids(self) -> str:
        return ", ".join(str(pid) for pid in self.workers)


def _work(settings: Settings, sock: socket.socket, supervisor: int) -> None:
    """A worker's life: its own process group, SIGTERM if the supervisor dies, then serve."""
    os.setpgrp()
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != supervisor:  # the supervisor died before prctl took effect
            return
    configure_logging(settings.log_level)
    serve(settings, sock)
