"""Logging to stderr, one record per line, the same for our code, uvicorn and the SDK.

``LOG_FORMAT=text`` (the default) writes readable lines; ``json`` writes one JSON object per
line for log shippers, with the request's fields when a record has them (its id, and its trace
id when traces are on). What the lines say are in ``docs/operating.md``.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Final

from ..requests import current
from ..settings import LogFormat

# What str.splitlines() splits on.
_LINE_BREAK = re.compile("[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# uvicorn's access line ("POST /mcp 200"): ours (``access.py``) replaces it.
UVICORN_ACCESS: Final = "uvicorn.access"
# What every record has; anything else on one was given to it (``extra=``, the request id).
_EVERY_RECORD: Final = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class RequestIdFilter(logging.Filter):
    """Gives every record written while a request is served that request's id, and its trace
    id when traces are on (``tracing.py``).

    A handler's filter, so it costs nothing for records that are not written.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            state = current.get()
            if state is not None:
                record.request_id = state.request_id
                if state.trace_id is not None:
                    record.trace_id = state.trace_id
        return True


class OneLineFormatter(logging.Formatter):
    """Folds a multi-line message onto its record's line, so log collectors see one event.

    A traceback, when a record carries one, still follows on the lines below it.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:
        if _LINE_BREAK.search(record.message):  # most records have one line: leave them be
            lines = (line.strip() for line in record.message.strip().splitlines())
            record.message = " | ".join(line for line in lines if line)
        return super().formatMessage(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: timestamp, level, logger, message, the request's fields.

    A traceback goes in ``exception``, as one string, so the record stays on one line.
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _EVERY_RECORD and value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, default=str)


def configure_logging(
    level: str, log_format: LogFormat = "text", *, quiet: Iterable[str] = ()
) -> None:
    """Route every logger through one stderr handler at ``level``, in ``log_format``.

    Replaces whatever handlers were installed before (the SDK installs its own when its server
    class is created), so each record is written exactly once. The ``quiet`` loggers, whose INFO
    lines repeat what the service's own say (a line per request, mostly), are heard only at
    DEBUG.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else OneLineFormatter(FORMAT))
    handler.addFilter(RequestIdFilter())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    for name in ("uvicorn", "uvicorn.error", UVICORN_ACCESS):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    logging.getLogger(UVICORN_ACCESS).setLevel(logging.WARNING)
    chatter_level = logging.NOTSET if level.upper() == "DEBUG" else logging.WARNING
    # The access line and the tool lines (``errors.py``) say once, with the request id, what
    # these say at INFO; their warnings and errors still come through. httpx, the tools' HTTP
    # client (``shared.py``), writes a line per call to an upstream at INFO.
    for name in (*quiet, "httpx"):
        logging.getLogger(name).setLevel(chatter_level)
    # Warnings from dependencies become log records too, so stderr stays one line per record.
    logging.captureWarnings(True)
