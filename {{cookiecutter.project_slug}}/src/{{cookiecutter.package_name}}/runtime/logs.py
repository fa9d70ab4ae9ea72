"""Logging to stderr: one readable line per record, the same for our code, uvicorn and the SDK."""

from __future__ import annotations

import logging
import re
import sys

# What str.splitlines() splits on.
_LINE_BREAK = re.compile("[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Loggers of the SDK that write a line per request at INFO ("Terminating session: None",
# "Processing request of type ..."): noise next to uvicorn's access line, and a cost on the
# request path. Their warnings and errors still come through; at DEBUG, everything does.
SDK_PER_REQUEST_LOGGERS = ("mcp.server.streamable_http", "mcp.server.lowlevel.server")


class OneLineFormatter(logging.Formatter):
    """Folds a multi-line message onto its record's line, so log collectors see one event.

    A traceback, when a record carries one, still follows on the lines below it.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:
        if _LINE_BREAK.search(record.message):  # most records have one line: leave them be
            lines = (line.strip() for line in record.message.strip().splitlines())
            record.message = " | ".join(line for line in lines if line)
        return super().formatMessage(record)


def configure_logging(level: str) -> None:
    """Route every logger through one stderr handler at ``level``.

    Replaces whatever handlers were installed before (the SDK installs its own when its server
    class is created), so each record is written exactly once.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter(FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    chatter_level = logging.NOTSET if level.upper() == "DEBUG" else logging.WARNING
    for name in SDK_PER_REQUEST_LOGGERS:
        logging.getLogger(name).setLevel(chatter_level)
    # Warnings from dependencies become log records too, so stderr stays one line per record.
    logging.captureWarnings(True)
