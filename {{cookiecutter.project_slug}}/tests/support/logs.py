"""What the server logged during a test, and the questions the tests ask of it."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

import pytest

import {{ cookiecutter.package_name }} as package

# One formatted log record, as the service writes every stderr line.
LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: \S"
)
GUARD_LOGGER = f"{package.__name__}.runtime.http.guard"
ACCESS_LOGGER = f"{package.__name__}.runtime.http.access"


class LogWatch:
    """What the server logged during one test, with the questions the tests ask of it."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog

    @property
    def records(self) -> list[logging.LogRecord]:
        return list(self.caplog.records)

    def warnings(self) -> list[logging.LogRecord]:
        return [r for r in self.records if r.levelno == logging.WARNING]

    def guard_warnings(self) -> list[logging.LogRecord]:
        return [r for r in self.warnings() if r.name == GUARD_LOGGER]

    def access_lines(self) -> list[logging.LogRecord]:
        return [r for r in self.records if r.name == ACCESS_LOGGER]

    def errors(self) -> list[logging.LogRecord]:
        return [r for r in self.records if r.levelno >= logging.ERROR]

    def tracebacks(self) -> list[logging.LogRecord]:
        return [r for r in self.records if r.exc_info or "Traceback" in r.getMessage()]

    def wait_for(self, predicate: Callable[[], bool], *, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting; the log so far:\n{self.dump()}")
            time.sleep(0.02)

    def dump(self) -> str:
        return "\n".join(f"{r.levelname} {r.name}: {r.getMessage()}" for r in self.records)
